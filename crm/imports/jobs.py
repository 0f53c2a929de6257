"""Running the slow part of an import (reading a big file, writing it) off the request.

The page starts a job and polls the run's progress. A job runs in a thread of the web
process with its own app context (so its own database session); with
IMPORTS_IN_BACKGROUND off (the tests' default) it runs before the request returns.
"""
from __future__ import annotations

import logging
import threading

from flask import current_app

from crm.core.transaction import after_commit

log = logging.getLogger(__name__)
_threads: dict[int, threading.Thread] = {}


def in_background() -> bool:
    return bool(current_app.config.get("IMPORTS_IN_BACKGROUND", not current_app.testing))


def start(run_id: int, job, *args) -> None:
    """Run job(run_id, *args) in its own app context, in a thread unless configured inline,
    once the request that starts it has committed (the job reads the run it wrote)."""
    after_commit(_start, run_id, job, *args)


def _start(run_id: int, job, *args) -> None:
    app = current_app._get_current_object()

    def work():
        with app.app_context():
            try:
                job(run_id, *args)
            except Exception:  # the job records its own failure; this is the last resort
                log.exception("import run %s crashed", run_id)
            finally:
                _threads.pop(run_id, None)

    if not in_background():
        work()
        return
    thread = threading.Thread(target=work, name=f"import-{run_id}", daemon=True)
    _threads[run_id] = thread
    thread.start()


def is_running_here(run_id: int) -> bool:
    """True while this process works on the run (a restart loses the thread, not the data)."""
    thread = _threads.get(run_id)
    return thread is not None and thread.is_alive()


def wait(run_id: int, timeout: float | None = None) -> None:
    """Wait for a background job (tests and shutdown)."""
    thread = _threads.get(run_id)
    if thread is not None:
        thread.join(timeout)
