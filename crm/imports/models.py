"""Import runs: one row per upload (DM export or contacts CSV), from preview to result."""
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.timeutil import utcnow
from crm.extensions import db

KIND_LABELS = {"dm": "DM history", "csv": "Contacts CSV"}
# analysing → previewed → running → done | failed; a preview can also be cancelled.
STATUS_LABELS = {"analysing": "Reading the file", "previewed": "Waiting for your review",
                 "running": "Importing", "done": "Imported", "failed": "Failed",
                 "cancelled": "Cancelled"}
ACTIVE_STATUSES = ("analysing", "running")


class ImportRun(db.Model):
    __tablename__ = "import_runs"
    __table_args__ = (Index("ix_import_runs_created", "created_at"),
                      Index("ix_import_runs_creator_created", "created_by_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), nullable=False)  # "dm" | "csv"
    platform: Mapped[str | None] = mapped_column(String(16))
    layout: Mapped[str | None] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255), nullable=False, default="")
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
    # Deferred: a big export's thread list is only read by its own preview and import.
    options: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict, deferred=True)
    stored_path: Mapped[str | None] = mapped_column(String(500))
    # Two tabs or people answering one preview cannot overwrite each other's choices, and a
    # job finishing cannot undo a cancel (see imports.services.save_run).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    created_by = relationship("User", foreign_keys=[created_by_id], lazy="joined")
    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, int(self.progress_done * 100 / self.progress_total))

    def __repr__(self) -> str:
        return f"<ImportRun {self.id} {self.kind} {self.status}>"
