"""What every import run shares: the list of past runs and how far a running one is."""
from __future__ import annotations

from sqlalchemy import select

from crm import policy
from crm.extensions import db
from crm.imports import jobs, storage
from crm.imports.models import ImportRun
from crm.jobs.models import Job

PAGE = 25


def past_runs(user, before: int | None = None, page: int = PAGE) -> tuple[list[ImportRun], int | None]:
    """The runs `user` may see, newest first, a page at a time (keyset on id)."""
    stmt = select(ImportRun).where(policy.import_scope(user))
    if before:
        stmt = stmt.where(ImportRun.id < before)
    rows = list(db.session.scalars(stmt.order_by(ImportRun.id.desc()).limit(page + 1)))
    more = rows[page - 1].id if len(rows) > page else None
    return rows[:page], more


def current_job(run: ImportRun) -> Job | None:
    """The run's latest job (reading, checking or writing it)."""
    return db.session.scalars(select(Job).where(Job.subject == jobs.subject(run.id))
                              .order_by(Job.id.desc()).limit(1)).first()


def progress(run: ImportRun) -> dict:
    """done / total / percent / phase, and the job's state (waiting, attempt); live numbers
    come from the progress file the job writes."""
    live = storage.read_progress(run.id) if run.is_active else None
    done = live["done"] if live else run.progress_done
    total = (live["total"] if live else run.progress_total) or 0
    percent = min(100, int(done * 100 / total)) if total else 0
    job = current_job(run) if run.is_active else None
    return {"done": done, "total": total, "percent": percent,
            "phase": (live or {}).get("phase", ""),
            "waiting": job is not None and job.status == "queued",
            "attempt": job.attempts if job is not None else 0}
