"""One attempt of a delivery: check the address again, POST the signed body, record what
the receiver answered, and plan the next attempt or give up.

Failed attempts wait 1, 2, 4, 8 … minutes (WEBHOOK_RETRY_FIRST_SECONDS, doubling, at most
6 hours apart) until WEBHOOK_RETRY_HOURS (24) after the event, with a last attempt then.
WEBHOOK_DISABLE_AFTER failed attempts in a row, on any of its deliveries, turn the endpoint
off: the admins read why on the webhooks page and in the audit log, and its waiting
deliveries are kept, to go out when it is turned on again.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import update

from crm import jobs
from crm.audit import services as audit
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.settings import services as settings
from crm.webhooks import addresses, sending, signing
from crm.webhooks.models import (DELIVERED, FAILED, PENDING, RETRYING, WebhookAttempt,
                                 WebhookDelivery, WebhookEndpoint)

LONGEST_WAIT = timedelta(hours=6)


def wait_after(attempt: int) -> timedelta:
    """How long to wait after the `attempt`-th failed attempt."""
    first = float(current_app.config.get("WEBHOOK_RETRY_FIRST_SECONDS", 60))
    return min(timedelta(seconds=first * 2 ** (attempt - 1)), LONGEST_WAIT)


def attempt(delivery_id: int) -> str | None:
    """Make the next attempt of a queued delivery; returns its status after it (None when
    there was nothing to do: already done, or its endpoint is off or gone)."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != PENDING:
        return None
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        return None          # kept, and sent when the endpoint is turned on again
    url, secret, body = endpoint.url, endpoint.secret, delivery.body.encode()
    number, event_id, event_type = delivery.attempts + 1, delivery.event_id, delivery.event_type
    allow_private = bool(settings.get(addresses.ALLOW_PRIVATE))
    timeout = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 10))
    db.session.commit()      # no transaction stays open while the receiver answers
    at = utcnow()
    try:
        target = addresses.target(url, allow_private=allow_private)
    except addresses.AddressRefused as e:
        answer = sending.Answer(False, None, 0, str(e)[:300])
    else:
        headers = signing.headers(secret, int(time.time()), body, event_id=event_id,
                                  event_type=event_type, delivery_id=delivery_id)
        answer = sending.post(target, body, headers, timeout)
    return _record(delivery_id, number, at, answer)


def _record(delivery_id: int, number: int, at: datetime, answer: sending.Answer) -> str | None:
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return None          # its endpoint was deleted meanwhile
    db.session.add(WebhookAttempt(delivery_id=delivery_id, number=number, at=at, ok=answer.ok,
                                  response_code=answer.code, duration_ms=answer.duration_ms,
                                  error=answer.error))
    delivery.attempts, delivery.last_attempt_at = number, at
    delivery.response_code, delivery.duration_ms = answer.code, answer.duration_ms
    delivery.error = answer.error
    table = WebhookEndpoint.__table__
    if answer.ok:
        delivery.status, delivery.next_attempt_at = DELIVERED, None
        db.session.execute(update(table).where(table.c.id == delivery.endpoint_id)
                           .values(consecutive_failures=0, last_success_at=at))
    else:
        after = at + wait_after(number)
        if at >= delivery.retry_until:
            delivery.status, delivery.next_attempt_at = FAILED, None
        else:
            delivery.status = RETRYING
            delivery.next_attempt_at = min(after, delivery.retry_until)
        failures = db.session.execute(
            update(table).where(table.c.id == delivery.endpoint_id)
            .values(consecutive_failures=table.c.consecutive_failures + 1)
            .returning(table.c.consecutive_failures)).scalar()
        limit = int(current_app.config.get("WEBHOOK_DISABLE_AFTER", 50))
        if failures is not None and failures >= limit:
            turn_off(delivery.endpoint_id, failures, answer.error or f"HTTP {answer.code}")
    status = delivery.status
    jobs.fence()
    db.session.commit()
    return status


def turn_off(endpoint_id: int, failures: int, last_error: str) -> bool:
    """Turn a failing endpoint off (once), with the reason the admins read."""
    table = WebhookEndpoint.__table__
    reason = (f"Turned off after {failures} failed attempts in a row; the last: "
              f"{last_error.rstrip('.')}")[:299] + "."
    done = db.session.execute(update(table).where(table.c.id == endpoint_id,
                                                  table.c.enabled.is_(True))
                              .values(enabled=False, disabled_reason=reason,
                                      disabled_at=utcnow()))
    if not done.rowcount:
        return False
    url = db.session.scalar(db.select(table.c.url).where(table.c.id == endpoint_id))
    audit.record(None, "webhook_disabled", None, entity_type="webhook_endpoint",
                 entity_id=endpoint_id, summary=f"Webhook endpoint {url} turned off: "
                                                f"{reason}"[:255])
    return True


def give_up_or_retry(delivery_id: int) -> None:
    """The delivery's job failed on our side: try again in a while (or give up after the
    day), so the delivery is never left queued with no job."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.status != PENDING:
        return
    now = utcnow()
    if now >= delivery.retry_until:
        delivery.status, delivery.next_attempt_at = FAILED, None
    else:
        delivery.status = RETRYING
        delivery.next_attempt_at = min(now + timedelta(minutes=5), delivery.retry_until)
