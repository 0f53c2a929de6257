"""Where an upload waits between preview and import: instance/imports/<run id>/.

Nothing here trusts the upload: names are reduced to a plain file name, sizes are counted
while writing, and the folder is removed when the run is done, failed or cancelled.
Zip archives are opened later by the parsers' zipsafe, never extracted here.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

from flask import current_app

from crm.core.errors import ValidationFailed

CHUNK = 1024 * 1024
MESSAGE_FILE = re.compile(r"message_\d+\.json", re.I)


def root() -> Path:
    """IMPORT_STORAGE_DIR (configuration or environment), else instance/imports."""
    configured = current_app.config.get("IMPORT_STORAGE_DIR") or os.environ.get(
        "IMPORT_STORAGE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "imports"


def run_folder(run_id: int) -> Path:
    return root() / str(int(run_id))


def max_upload_bytes() -> int:
    """The configurable upload limit (IMPORT_MAX_UPLOAD_MB, else Flask's MAX_CONTENT_LENGTH)."""
    mb = current_app.config.get("IMPORT_MAX_UPLOAD_MB")
    if mb:
        return int(float(mb) * 1024 * 1024)
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 512 * 1024 * 1024)


def safe_name(name: str | None) -> str:
    """The last part of an uploaded file name; never a path, never empty."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip().lstrip(".")
    return name[:200] or "upload"


def save_uploads(run_id: int, files) -> tuple[Path, str]:
    """Copy uploaded files (name, stream) into the run's folder; returns (path, label).

    One file is opened as itself. Several files are placed in one folder; Instagram and
    Facebook message_N.json files go under their thread's folder (from thread_path) so they
    keep the same thread key as in the zip.
    """
    files = [(safe_name(name), stream) for name, stream in files]
    if not files:
        raise ValidationFailed("Choose a file to upload.", field="file")
    # A new run's folder should not exist; if it does (a database reset), it is stale.
    shutil.rmtree(run_folder(run_id), ignore_errors=True)
    upload = run_folder(run_id) / "upload"
    upload.mkdir(parents=True, exist_ok=True)
    limit, total = max_upload_bytes(), 0
    written: list[Path] = []
    for name, stream in files:
        target = upload / ".incoming"
        total = _copy(stream, target, total, limit, name)
        final = upload / name
        if len(files) > 1 and MESSAGE_FILE.fullmatch(name):
            final = _thread_folder(target, upload) / name
        if final.exists():
            raise ValidationFailed(f"Two files are called {name}. Upload the zip the platform "
                                   "gave you instead.", field="file")
        final.parent.mkdir(parents=True, exist_ok=True)
        target.rename(final)
        written.append(final)
    if len(written) == 1:
        return written[0], written[0].name
    label = f"{len(written)} files ({', '.join(p.name for p in written[:3])}" \
            f"{', …' if len(written) > 3 else ''})"
    return upload, label


def _copy(stream, target: Path, total: int, limit: int, name: str) -> int:
    with open(target, "wb") as out:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise ValidationFailed(f"{name}: the upload is larger than the "
                                       f"{limit // (1024 * 1024)} MB allowed.", field="file")
            out.write(chunk)
    return total


def _thread_folder(path: Path, upload: Path) -> Path:
    """Where a loose message_N.json belongs: <box>/<thread folder> from its thread_path."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64 * 1024).decode("utf-8", "replace")
    except OSError:
        return upload
    found = re.search(r'"thread_path"\s*:\s*"([^"]+)"', head)
    parts = [p for p in (found.group(1) if found else "").split("/") if p not in ("", ".", "..")]
    if len(parts) < 2:
        return upload
    return upload / safe_name(parts[-2]) / safe_name(parts[-1])


def remove(run) -> None:
    """Delete what the run stored (the upload and its progress file)."""
    if run.id is not None:
        shutil.rmtree(run_folder(run.id), ignore_errors=True)
    run.stored_path = None


# Progress is kept in a small file beside the upload: the import's own transaction is still
# open while it runs, so the database cannot show it to the page that polls.
def write_progress(run_id: int, done: int, total: int, phase: str = "") -> None:
    folder = run_folder(run_id)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "progress.json.tmp"
    tmp.write_text(json.dumps({"done": done, "total": total, "phase": phase, "at": time.time()}))
    os.replace(tmp, folder / "progress.json")


def read_progress(run_id: int) -> dict | None:
    try:
        return json.loads((run_folder(run_id) / "progress.json").read_text())
    except (OSError, ValueError):
        return None
