"""Import runs: one row per confirmed (or previewed) import, with its counts and problems."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.timeutil import utcnow
from crm.extensions import db


class ImportRun(db.Model):
    __tablename__ = "import_runs"
    __table_args__ = (Index("ix_import_runs_created", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)  # "dm" | "csv"
    platform: Mapped[str | None] = mapped_column(String(16))
    layout: Mapped[str | None] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    # previewed | running | done | failed
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="previewed")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    progress_done: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    counts: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    problems: Mapped[list] = mapped_column(JSON, nullable=False, default=list)
    # What the preview chose (me, thread choices, column mapping), and where the upload waits.
    options: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    stored_path: Mapped[str | None] = mapped_column(String(500))

    created_by = relationship("User", foreign_keys=[created_by_id])
