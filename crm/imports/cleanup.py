"""What imports leave behind, deleted once it is old: previews nobody confirmed, uploads of
failed runs (kept for a retry), folders without a run, and reading folders in the system's
temporary directory that a killed reader could not remove (IMPORT_ABANDONED_HOURS)."""
from __future__ import annotations

import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports import storage
from crm.imports.models import ImportRun

TEMP_PREFIXES = ("rapport-export-",)
BATCH = 500


def clean_up() -> dict[str, int]:
    """Returns how many of each were removed; the caller commits."""
    hours = float(current_app.config.get("IMPORT_ABANDONED_HOURS", 168))
    cutoff = utcnow() - timedelta(hours=hours)
    removed = {"previews cancelled": 0, "uploads deleted": 0, "folders deleted": 0,
               "temporary folders deleted": 0}
    for run in db.session.scalars(select(ImportRun).where(
            ImportRun.status == "previewed", ImportRun.created_at < cutoff).limit(BATCH)):
        run.status, run.finished_at = "cancelled", utcnow()
        storage.remove(run)
        removed["previews cancelled"] += 1
    for run in db.session.scalars(select(ImportRun).where(
            ImportRun.status.in_(("done", "failed", "cancelled")),
            ImportRun.stored_path.is_not(None),
            func.coalesce(ImportRun.finished_at, ImportRun.created_at) < cutoff).limit(BATCH)):
        storage.remove(run)
        removed["uploads deleted"] += 1
    db.session.flush()
    removed["folders deleted"] = _orphan_folders(time.time() - hours * 3600)
    # A reading folder lives as long as its import: never removed younger than a day.
    removed["temporary folders deleted"] = _temporary_folders(time.time() - max(hours, 24) * 3600)
    return {k: v for k, v in removed.items() if v}


def _orphan_folders(before: float) -> int:
    """Run folders whose run is gone or finished (a crash between two steps), when old."""
    root = storage.root()
    if not root.is_dir():
        return 0
    folders = {int(p.name): p for p in root.iterdir() if p.is_dir() and p.name.isdigit()}
    if not folders:
        return 0
    keep = set(db.session.scalars(select(ImportRun.id).where(
        ImportRun.id.in_(list(folders)),
        ImportRun.status.in_(("analysing", "previewed", "running")) |
        ImportRun.stored_path.is_not(None))))
    count = 0
    for run_id, path in folders.items():
        if run_id not in keep and _older(path, before):
            shutil.rmtree(path, ignore_errors=True)
            count += 1
    return count


def _temporary_folders(before: float) -> int:
    count = 0
    for path in Path(tempfile.gettempdir()).iterdir():
        if path.name.startswith(TEMP_PREFIXES) and path.is_dir() and _older(path, before):
            shutil.rmtree(path, ignore_errors=True)
            count += 1
    return count


def _older(path: Path, before: float) -> bool:
    try:
        return path.stat().st_mtime < before
    except OSError:
        return False
