"""The delivery job, and every two minutes the retries that are due and the clean-up of old
deliveries."""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from crm import jobs
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.jobs.registry import on_failure
from crm.webhooks import delivery as deliveries
from crm.webhooks.models import (DELIVERED, FAILED, PENDING, RETRYING, WebhookAttempt,
                                 WebhookDelivery, WebhookEndpoint)
from crm.webhooks.outbox import DELIVER, queue

BATCH = 500


@jobs.job(DELIVER, label="Webhook delivery")
def deliver(job, delivery_id: int) -> dict:
    """POST one event to its endpoint (one attempt)."""
    status = deliveries.attempt(delivery_id)
    return {"summary": {None: "Nothing to send", DELIVERED: "Delivered",
                        FAILED: "Failed for a day; given up"}.get(status, "Failed; will retry")}


@on_failure(DELIVER)
def _not_lost(job, message: str) -> None:
    deliveries.give_up_or_retry(int((job.args or [0])[0]))


def send_due(now=None) -> int:
    """Queue the deliveries whose next attempt is due (of endpoints that are on)."""
    now = now or utcnow()
    ids = db.session.scalars(
        select(WebhookDelivery.id).join(WebhookEndpoint,
                                        WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.status == RETRYING, WebhookDelivery.next_attempt_at <= now,
               WebhookEndpoint.enabled.is_(True))
        .order_by(WebhookDelivery.next_attempt_at).limit(BATCH)).all()
    for row in db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))):
        row.status = PENDING
        queue(row.id)
    return len(ids)


def forget_old(now=None) -> int:
    """Delete delivered and failed deliveries older than WEBHOOK_KEEP_DAYS."""
    days = float(current_app.config.get("WEBHOOK_KEEP_DAYS", 30))
    old = (select(WebhookDelivery.id)
           .where(WebhookDelivery.status.in_((DELIVERED, FAILED)),
                  WebhookDelivery.created_at < (now or utcnow()) - timedelta(days=days))
           .limit(5000))
    ids = db.session.scalars(old).all()
    if ids:
        db.session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
    return len(ids)


@jobs.periodic("webhooks.retries", minutes=2, label="Webhook retries")
def retries(job) -> dict:
    """Send the webhook deliveries whose next attempt is due; forget old ones."""
    sent = send_due()
    forgotten = forget_old()
    db.session.commit()
    return {"summary": f"{sent} due, {forgotten} old deliveries forgotten"}
