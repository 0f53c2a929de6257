"""A bulk action as it was done, and what each row was before it (for undo)."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.timeutil import utcnow
from crm.extensions import db


class BulkChange(db.Model):
    __tablename__ = "bulk_changes"
    __table_args__ = (Index("ix_bulk_changes_user_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(32), nullable=False)  # contact | conversation
    summary: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    # {"skipped": [[name, why], …], "refused": [[name, why], …]} as the summary lists them.
    details: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    undo_until: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undo_summary: Mapped[str | None] = mapped_column(String(500))

    rows = relationship("BulkChangeRow", back_populates="change", lazy="selectin",
                        order_by="BulkChangeRow.id", cascade="all, delete-orphan")

    @property
    def skipped(self) -> list:
        return self.details.get("skipped", [])

    @property
    def refused(self) -> list:
        return self.details.get("refused", [])


class BulkChangeRow(db.Model):
    """One record a bulk action changed: its values before, and its version (or, for a
    conversation, which has none, its state) right after, so that undo can tell whether
    someone changed it since."""

    __tablename__ = "bulk_change_rows"
    __table_args__ = (Index("ix_bulk_change_rows_change", "change_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("bulk_changes.id", ondelete="CASCADE"),
                                           nullable=False)
    entity_id: Mapped[int] = mapped_column(Integer, nullable=False)
    before: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    after: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)

    change = relationship("BulkChange", back_populates="rows")
