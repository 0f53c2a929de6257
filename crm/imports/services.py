"""What every import run shares: the list of past runs and how far a running one is."""
from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import select

from crm import policy
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports import jobs, storage
from crm.imports.models import ImportRun

PAGE = 25
# A run with no sign of life for this long was interrupted (for example by a restart);
# its transaction never committed, so nothing of it was written.
STALL_SECONDS = 15 * 60
PREVIEW_DAYS = 7


def past_runs(user, before: int | None = None, page: int = PAGE) -> tuple[list[ImportRun], int | None]:
    """The runs `user` may see, newest first, a page at a time (keyset on id)."""
    stmt = select(ImportRun).where(policy.import_scope(user))
    if before:
        stmt = stmt.where(ImportRun.id < before)
    rows = list(db.session.scalars(stmt.order_by(ImportRun.id.desc()).limit(page + 1)))
    more = rows[page - 1].id if len(rows) > page else None
    return rows[:page], more


def progress(run: ImportRun) -> dict:
    """done / total / percent / phase; live numbers come from the progress file."""
    live = storage.read_progress(run.id) if run.is_active else None
    done = live["done"] if live else run.progress_done
    total = (live["total"] if live else run.progress_total) or 0
    percent = min(100, int(done * 100 / total)) if total else 0
    return {"done": done, "total": total, "percent": percent,
            "phase": (live or {}).get("phase", ""), "stalled": is_stalled(run, live)}


def reap_if_stalled(run: ImportRun) -> bool:
    """Mark an interrupted run as failed (its transaction never committed); True if it was."""
    if not is_stalled(run, storage.read_progress(run.id) if run.is_active else None):
        return False
    run.status = "failed"
    run.problems = ["The import stopped before it finished (the server may have restarted). "
                    "Nothing from it was written; upload the file again."]
    run.finished_at = utcnow()
    storage.remove(run)
    return True


def forget_old_previews(user, days: int = PREVIEW_DAYS) -> None:
    """Previews left waiting for a week are cancelled and their uploads deleted."""
    old = db.session.scalars(select(ImportRun).where(
        ImportRun.created_by_id == user.id, ImportRun.status == "previewed",
        ImportRun.created_at < utcnow() - timedelta(days=days)).limit(50)).all()
    for run in old:
        run.status, run.finished_at = "cancelled", utcnow()
        storage.remove(run)


def is_stalled(run: ImportRun, live: dict | None) -> bool:
    if not run.is_active or jobs.is_running_here(run.id):
        return False
    last = live["at"] if live else None
    if last is None:
        return (utcnow() - run.created_at).total_seconds() > STALL_SECONDS
    return time.time() - last > STALL_SECONDS

