"""Follow-up tasks."""
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.timeutil import utcnow
from crm.extensions import db


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_assignee_open_due", "assignee_id", "status", "due_at"),
        Index("ix_tasks_status_due_assignee", "status", "due_at", "assignee_id"),
        # A contact's open tasks, filtered and in due order from one index.
        Index("ix_tasks_contact", "contact_id", "status", "due_at", "id"),
        # A contact's automatic follow-ups, newest first (its timeline).
        Index("ix_tasks_contact_auto", "contact_id", "auto", "created_at", "id"),
        Index("ix_tasks_deal", "deal_id", "status"),
        Index("ix_tasks_status_done", "status", "done_at", "assignee_id"),
        # Covering for the dashboard's automatic follow-ups created in a range, and whether
        # their DM was answered.
        Index("ix_tasks_auto_replied", "auto", "created_at", "assignee_id", "source_replied_at"),
        # One automatic follow-up per unanswered outbound message.
        Index("uq_tasks_source_message", "source_message_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    notes: Mapped[str | None] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"))
    # open | done | cancelled
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    # Outreach tasks (a follow-up DM to send) are cancelled when the contact opts out.
    is_outreach: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    auto: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    source_message_id: Mapped[int | None] = mapped_column(Integer)
    # When that message was answered (its replied_at), for the dashboard: written with the
    # reply state (crm.conversations.reply_state.follow_up_replies).
    source_replied_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancel_note: Mapped[str | None] = mapped_column(String(255))
    snooze_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The due time the task.due webhook event was emitted for (a snooze moves due_at past
    # it, so the task is announced again when it comes due): crm.tasks.due.
    announced_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    assignee = relationship("User", foreign_keys=[assignee_id], lazy="joined")
    contact = relationship("Contact", lazy="joined")
    deal = relationship("Deal")

    __mapper_args__ = {"version_id_col": version}
