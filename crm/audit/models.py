"""Audit events."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.timeutil import utcnow
from crm.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_entity", "entity_type", "entity_id"),
        Index("ix_audit_at", "at"),
        Index("ix_audit_actor_at", "actor_id", "at"),
        Index("ix_audit_action_at", "action", "at"),
        # A contact's timeline: its events newest first, keyset on (at, id).
        Index("ix_audit_contact_at", "contact_id", "at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[int | None] = mapped_column(Integer)
    # The contact whose timeline shows the event: the contact itself, or the one its task,
    # deal, note or DM belongs to (crm/contacts/timeline.py).
    contact_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    changes: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    actor = relationship("User", lazy="joined")
