"""What the admin page does: register endpoints (the secret shown once), turn them on and
off, delete them, send a delivery again, allow private receivers; and what it lists."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from crm import policy
from crm.audit import services as audit
from crm.core import secrets
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.settings import services as settings
from crm.webhooks import addresses, signing
from crm.webhooks.models import (DELIVERED, EVENTS, FAILED, PENDING, RETRYING, WAITING,
                                 WebhookAttempt, WebhookDelivery, WebhookEndpoint)
from crm.webhooks.outbox import forget_endpoints, queue, retry_hours

LOG_PAGE = 50
MAX_ENDPOINTS = 50


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def allow_private() -> bool:
    return bool(settings.get(addresses.ALLOW_PRIVATE))


def register(actor, *, url: str, events, description: str = "") -> tuple[WebhookEndpoint, str]:
    """Add an endpoint; returns it and its secret (shown this once, stored encrypted)."""
    policy.require_admin(actor)
    wanted = [e for e in EVENTS if e in set(events or ())]
    unknown = sorted(set(events or ()) - set(EVENTS))
    if unknown:
        raise ValidationFailed(f"Unknown event “{unknown[0]}”.", field="events")
    if not wanted:
        raise ValidationFailed("Choose at least one event.", field="events")
    if len(description or "") > 200:
        raise ValidationFailed("Keep the description under 200 characters.",
                               field="description")
    url = addresses.check_for_registration(url)
    if db.session.scalar(select(func.count(WebhookEndpoint.id))) >= MAX_ENDPOINTS:
        raise ValidationFailed(f"There are already {MAX_ENDPOINTS} endpoints; delete one first.")
    secrets.check_key()
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(url=url, description=(description or "").strip(), events=wanted,
                               secret=secret, enabled=True, created_by_id=actor.id)
    db.session.add(endpoint)
    db.session.flush()
    forget_endpoints()
    audit.record(actor, "create", endpoint, entity_type="webhook_endpoint",
                 summary=f"Webhook endpoint {url} registered for {', '.join(wanted)}"[:255])
    return endpoint, secret


def set_enabled(actor, endpoint: WebhookEndpoint, enabled: bool) -> None:
    """Turn an endpoint on (its waiting deliveries go out again, with a new day of retries)
    or off (they wait)."""
    policy.require_admin(actor)
    if endpoint.enabled == enabled:
        return
    endpoint.enabled = enabled
    forget_endpoints()
    if enabled:
        now = utcnow()
        endpoint.consecutive_failures, endpoint.disabled_reason = 0, None
        endpoint.disabled_at = None
        for row in db.session.scalars(select(WebhookDelivery).where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.status.in_(WAITING))):
            row.status, row.next_attempt_at = RETRYING, now
            row.retry_until = max(row.retry_until, now + timedelta(hours=retry_hours()))
    else:
        endpoint.disabled_at, endpoint.disabled_reason = utcnow(), None
    audit.record(actor, "update", endpoint, entity_type="webhook_endpoint",
                 summary=f"Webhook endpoint {endpoint.url} turned {'on' if enabled else 'off'}")


def remove(actor, endpoint: WebhookEndpoint) -> None:
    """Delete an endpoint with its deliveries and their log."""
    policy.require_admin(actor)
    ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    audit.record(actor, "delete", endpoint, entity_type="webhook_endpoint",
                 summary=f"Webhook endpoint {endpoint.url} deleted")
    db.session.delete(endpoint)
    db.session.flush()
    forget_endpoints()


def send_again(actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """The same event (same id and body) to the same endpoint once more, as a new delivery
    with its own day of retries."""
    policy.require_admin(actor)
    if delivery.status not in (DELIVERED, FAILED):
        raise ValidationFailed("This delivery is still being tried; wait for it to finish.")
    if not delivery.endpoint.enabled:
        raise ValidationFailed("Turn the endpoint on first.")
    now = utcnow()
    again = WebhookDelivery(endpoint_id=delivery.endpoint_id, event_id=delivery.event_id,
                            event_type=delivery.event_type, body=delivery.body, status=PENDING,
                            created_at=now, next_attempt_at=now, resent_from_id=delivery.id,
                            retry_until=now + timedelta(hours=retry_hours()))
    db.session.add(again)
    db.session.flush()
    queue(again.id)
    audit.record(actor, "resend", delivery.endpoint, entity_type="webhook_endpoint",
                 summary=f"Webhook {delivery.event_type} {delivery.event_id} sent again to "
                         f"{delivery.endpoint.url}"[:255])
    return again


def set_allow_private(actor, allowed: bool) -> None:
    """Allow (or refuse again) receivers at private, loopback and link-local addresses."""
    policy.require_admin(actor)
    if allow_private() == allowed:
        return
    settings.put(addresses.ALLOW_PRIVATE, bool(allowed))
    audit.record(actor, "update", None, entity_type="settings",
                 summary=("Webhooks may now go to private addresses" if allowed else
                          "Webhooks to private addresses are refused again"))


def log(endpoint: WebhookEndpoint, before_id: int | None = None) -> tuple[list, int | None]:
    """The endpoint's deliveries, newest first, a page at a time (keyset on id), with their
    attempts; and the id to continue before, when there are more."""
    stmt = (select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
            .options(selectinload(WebhookDelivery.attempt_rows))
            .order_by(WebhookDelivery.id.desc()).limit(LOG_PAGE + 1))
    if before_id is not None:
        stmt = stmt.where(WebhookDelivery.id < before_id)
    rows = list(db.session.scalars(stmt))
    more = rows[LOG_PAGE - 1].id if len(rows) > LOG_PAGE else None
    return rows[:LOG_PAGE], more


def counts(endpoint_ids) -> dict[int, dict[str, int]]:
    """Per endpoint, how many deliveries wait and how many failed (for the list)."""
    out = {i: {"waiting": 0, "failed": 0} for i in endpoint_ids}
    rows = db.session.execute(
        select(WebhookDelivery.endpoint_id, WebhookDelivery.status, func.count())
        .where(WebhookDelivery.status.in_((PENDING, RETRYING, FAILED)))
        .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status))
    for endpoint_id, status, n in rows:
        if endpoint_id in out:
            out[endpoint_id]["failed" if status == FAILED else "waiting"] += n
    return out
