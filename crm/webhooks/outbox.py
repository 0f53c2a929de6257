"""Emitting events: the services that write a fact call `emit` in the same transaction.

`emit` writes one delivery row (the outbox) per enabled endpoint that wants the event and
queues a delivery job for each; the jobs are sent to the queue when the transaction commits
(crm.jobs.enqueue), so a write that rolls back sends nothing, and a committed one is sent
even if a worker is down when it commits (the row waits). With no endpoint wanting the
event it costs one remembered lookup and writes nothing.

Imports are history, not live events: whatever an import writes emits nothing (`history()`
around the import's writes). Live channel DMs, API messages and hand-logged DMs do emit.
"""
from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from crm import jobs
from crm.core import cache as figure_cache
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.webhooks import payloads
from crm.webhooks.models import PENDING, WebhookDelivery, WebhookEndpoint

_SILENT = "webhooks.history"
_ENDPOINTS = "webhooks.endpoints"
DELIVER = "webhooks.deliver"


def retry_hours() -> float:
    return float(current_app.config.get("WEBHOOK_RETRY_HOURS", 24))


_ENABLED_ENDPOINTS = (select(WebhookEndpoint.id, WebhookEndpoint.events)
                      .where(WebhookEndpoint.enabled.is_(True)).order_by(WebhookEndpoint.id))


def _endpoints() -> tuple:
    """(endpoint id, events) of the enabled endpoints: remembered across requests in the
    figure cache until a change to them commits, and kept for the rest of the transaction
    (every DM asks; most workspaces have none)."""
    found = db.session.info.get(_ENDPOINTS)
    if found is None:
        found = figure_cache.remember("webhook_endpoints", (), _enabled_endpoints,
                                      reads=(WebhookEndpoint.__tablename__,))
        db.session.info[_ENDPOINTS] = found
    return found


def _enabled_endpoints() -> tuple:
    return tuple((row.id, tuple(row.events or ())) for row in db.session.execute(
        _ENABLED_ENDPOINTS))


def forget_endpoints() -> None:
    """The endpoints changed in this transaction: look them up again at the next event."""
    db.session.info.pop(_ENDPOINTS, None)
    figure_cache.changed(db.session, WebhookEndpoint.__tablename__)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_endpoints(session, *args) -> None:
    if not session.in_nested_transaction():   # a savepoint released: the same transaction
        session.info.pop(_ENDPOINTS, None)


@contextmanager
def history():
    """Writes inside this block are history (an import): they emit no events."""
    info = db.session.info
    before = info.get(_SILENT)
    info[_SILENT] = True
    try:
        yield
    finally:
        if before is None:
            info.pop(_SILENT, None)
        else:
            info[_SILENT] = before


def emit(event_type: str, build, *args) -> int:
    """Record `event_type` for every enabled endpoint that wants it; `build(*args)` makes its
    data (called only when someone wants it). Returns how many deliveries were queued."""
    if db.session.info.get(_SILENT):
        return 0
    wanted = [endpoint_id for endpoint_id, events in _endpoints() if event_type in events]
    if not wanted:
        return 0
    db.session.flush()     # the record's ids and defaults, as stored
    now = utcnow()
    event_id = "evt_" + uuid.uuid4().hex
    body = json.dumps({"id": event_id, "type": event_type, "created_at": payloads.when(now),
                       "data": build(*args)}, separators=(",", ":"), ensure_ascii=False)
    rows = [WebhookDelivery(endpoint_id=endpoint_id, event_id=event_id, event_type=event_type,
                            body=body, status=PENDING, created_at=now, next_attempt_at=now,
                            retry_until=now + timedelta(hours=retry_hours()))
            for endpoint_id in wanted]
    db.session.add_all(rows)
    db.session.flush()
    for row in rows:
        queue(row.id)
    return len(rows)


def queue(delivery_id: int) -> None:
    """A job for the delivery, sent to the queue when the transaction commits."""
    jobs.enqueue(DELIVER, delivery_id, subject=f"webhook-delivery:{delivery_id}")


# -- what the services call, one line each -----------------------------------------------
def messages_added(conv, messages, state_before: str) -> None:
    """message.received / message.sent for each new message, and conversation.needs_reply
    when they left the conversation waiting on us where it was not before."""
    for m in messages:
        emit("message.received" if m.direction == "in" else "message.sent",
             payloads.message, m, conv)
    if conv.state == "needs_reply" and state_before != "needs_reply":
        emit("conversation.needs_reply", payloads.conversation, conv)


def contact_created(contact) -> None:
    emit("contact.created", payloads.contact, contact)


def consent_changed(contact, change) -> None:
    """contact.opted_out when a consent change (a ConsentEvent) put the contact out of reach:
    opted out or marked do-not-contact, where they were neither before."""
    was_out = change.from_status == "opted_out" or change.from_dnc
    if not was_out and (change.to_status == "opted_out" or change.to_dnc):
        emit("contact.opted_out", payloads.consent_change, contact, change)


def deal_moved(deal, from_stage) -> None:
    """deal.stage_changed, and deal.won or deal.lost when the move closed it."""
    emit("deal.stage_changed", payloads.deal, deal, from_stage)
    if deal.outcome in ("won", "lost") and from_stage.outcome != deal.outcome:
        emit(f"deal.{deal.outcome}", payloads.deal, deal, from_stage)


def task_due(task) -> None:
    emit("task.due", payloads.task, task)
