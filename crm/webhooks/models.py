"""Webhook endpoints, the deliveries waiting for or sent to them, and every attempt."""
from datetime import datetime

from sqlalchemy import (JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.secrets import EncryptedText
from crm.core.timeutil import utcnow
from crm.extensions import db

# The events a receiver may ask for, in the order the page lists them.
EVENTS = {
    "message.received": "A DM arrived (live channel, API or logged by hand)",
    "message.sent": "A DM was sent (from Rapport, from the phone, or logged by hand)",
    "conversation.needs_reply": "A conversation started waiting for our reply",
    "contact.created": "A contact was created",
    "contact.opted_out": "A contact opted out or was marked do-not-contact",
    "deal.stage_changed": "A deal moved to another stage",
    "deal.won": "A deal was won",
    "deal.lost": "A deal was lost",
    "task.due": "A task became due",
}

# A delivery waits for its job (pending), waits for its next attempt after a failure
# (retrying), or is finished: delivered, or failed once its day of retries has passed.
PENDING, RETRYING, DELIVERED, FAILED = "pending", "retrying", "delivered", "failed"
STATUS_LABELS = {PENDING: "Queued", RETRYING: "Retrying", DELIVERED: "Delivered",
                 FAILED: "Failed"}
WAITING = (PENDING, RETRYING)


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), nullable=False)
    description: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    events: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # Encrypted at rest (crm.core.secrets); shown once, when the endpoint is registered.
    secret: Mapped[str] = mapped_column(EncryptedText(), nullable=False)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Why it was turned off when Rapport did it (too many failures in a row); None otherwise.
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    consecutive_failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)

    created_by = relationship("User")

    @property
    def event_labels(self) -> list[str]:
        return [e for e in EVENTS if e in (self.events or [])]

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} {self.url}>"


class WebhookDelivery(db.Model):
    """One event for one endpoint: written with the fact it announces (the outbox), sent by
    a job after the commit. `body` is the JSON document sent, the same at every attempt."""
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The endpoint's log, newest first.
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        # The retries that are due.
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False)
    event_id: Mapped[str] = mapped_column(String(40), nullable=False)
    event_type: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Retries stop after this (a day after the event, or after "send again").
    retry_until: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    response_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(300))
    # "Send again" of an earlier delivery of the same event.
    resent_from_id: Mapped[int | None] = mapped_column(Integer)

    endpoint = relationship("WebhookEndpoint")
    attempt_rows = relationship("WebhookAttempt", order_by="WebhookAttempt.id",
                                cascade="all, delete-orphan", passive_deletes=True)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


class WebhookAttempt(db.Model):
    """One POST of a delivery: what the receiver answered and how long it took."""
    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    ok: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    response_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(String(300))
