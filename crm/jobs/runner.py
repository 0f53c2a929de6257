"""Running one job in a worker: take its lease, mark it running, run it, record the end.

A job's function commits its own unit of work. Whatever it raises is caught here: the
user reads the job's own message (JobFailed) or its generic `failure` text, the log gets
the whole error. A job whose row is not "queued" any more (done, failed, or taken by
another worker) is left alone, so a message delivered twice runs once.
"""
from __future__ import annotations

import contextvars
import json
import logging
import os
import resource
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app, has_app_context
from huey.constants import EmptyData
from sqlalchemy import select

from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.jobs import broker, lease as leases
from crm.jobs.models import Job
from crm.jobs.registry import JobFailed, spec as spec_of

log = logging.getLogger(__name__)
_current: contextvars.ContextVar = contextvars.ContextVar("job", default=None)
PROGRESS_EVERY = 0.5


class LeaseLost(Exception):
    """Another attempt of this job has taken over: this one must not commit."""


@dataclass
class Running:
    job_id: int
    attempt: int
    lease: object
    reported_at: float = 0.0


def current() -> Running | None:
    """The job this code runs in, if any."""
    return _current.get()


def _app():
    return current_app._get_current_object() if has_app_context() else broker.app()


def execute(job_id: int) -> None:
    with _app().app_context():
        _execute(job_id)


def _execute(job_id: int) -> None:
    row = db.session.get(Job, job_id)
    spec = spec_of(row.task) if row is not None else None
    if row is None or row.status != "queued":
        return
    if spec is None:
        _fail(row, None, "This kind of job is not known to the worker that took it.")
        return
    held = leases.lease(row.lease_key)
    if not held.acquire():
        log.info("job %s: %s is being worked on elsewhere", job_id, row.lease_key)
        return
    try:
        db.session.refresh(row)
        if row.status != "queued":
            return
        row.status, row.attempts = "running", row.attempts + 1
        row.started_at, row.finished_at, row.error = utcnow(), None, None
        row.worker = f"{socket.gethostname()}:{os.getpid()}"[:120]
        args = list(row.args or [])
        db.session.commit()
        log.info("job %s (%s) started, attempt %s", job_id, spec.name, row.attempts)
        started = time.monotonic()
        token = _current.set(Running(job_id, row.attempts, held))
        try:
            with held.kept(), memory_ceiling(spec):
                value = spec.func(row, *args)
        finally:
            _current.reset(token)
        row = db.session.get(Job, job_id)
        row.status, row.finished_at = "done", utcnow()
        if isinstance(value, dict):
            row.result = value
        clear_progress(job_id)
        db.session.commit()
        log.info("job %s (%s) done in %.1f s", job_id, spec.name, time.monotonic() - started)
    except LeaseLost:
        db.session.rollback()
        log.warning("job %s: another attempt took over; this one wrote nothing", job_id)
    except JobFailed as e:
        db.session.rollback()
        log.warning("job %s (%s) failed: %s", job_id, spec.name, e.message)
        _fail(db.session.get(Job, job_id), spec, e.message)
    except Exception as e:
        db.session.rollback()
        if not _out_of_memory(e):
            log.exception("job %s (%s) failed", job_id, spec.name)
            _fail(db.session.get(Job, job_id), spec, spec.failure)
            return
        log.exception("job %s (%s) ran out of memory", job_id, spec.name)
        mb = current_app.config.get(spec.memory_mb) if spec.memory_mb else None
        _fail(db.session.get(Job, job_id), spec,
              f"{spec.label} needed more memory than the {mb} MB one job may use. Split the "
              "upload into smaller parts, or ask an admin to raise the limit."
              if mb else f"{spec.label} ran out of memory.")
    finally:
        held.release()


# SQLite's own ways of saying it could not get memory: an allocation, or a mapping of the
# database or of its write-ahead log's index, refused under the job's ceiling.
SQLITE_OUT_OF_MEMORY = frozenset(("SQLITE_NOMEM", "SQLITE_IOERR_NOMEM", "SQLITE_IOERR_SHMMAP",
                                  "SQLITE_IOERR_MMAP"))


def _out_of_memory(e: BaseException) -> bool:
    if isinstance(e, MemoryError):
        return True
    cause = getattr(e, "orig", None) or e.__cause__
    return getattr(cause, "sqlite_errorname", None) in SQLITE_OUT_OF_MEMORY


def _fail(row: Job, spec, message: str) -> None:
    """Record the user's message on the job and on what it worked on; commit."""
    row.status, row.error, row.finished_at = "failed", message, utcnow()
    clear_progress(row.id)
    if spec is not None and spec.on_failure is not None:
        spec.on_failure(row, message)
    db.session.commit()


def fail(row: Job, message: str) -> None:
    """Mark a job failed with `message` (the sweep, for a job whose worker died)."""
    _fail(row, spec_of(row.task), message)


def run_periodic(task: str) -> None:
    """A periodic job fires: add its row and run it here, unless one is still going."""
    with _app().app_context():
        subject = f"every-{task}"
        busy = db.session.scalar(select(Job.id).where(Job.subject == subject,
                                                      Job.status.in_(("queued", "running"))))
        if busy:
            return
        row = Job(task=task, args=[], subject=subject, label=spec_of(task).label,
                  status="queued")
        db.session.add(row)
        db.session.commit()
        _execute(row.id)


def fence() -> None:
    """Call right before a commit that must happen once: raises LeaseLost when another
    attempt of this job has started meanwhile (its worker was thought dead). The job row
    is locked until the commit, so the check and the commit are one step."""
    running = current()
    if running is None:
        return
    row = db.session.execute(select(Job.attempts, Job.status).where(
        Job.id == running.job_id).with_for_update()).one()
    if row.attempts != running.attempt or row.status != "running" or running.lease.lost:
        raise LeaseLost()


def report_progress(done: int, total: int, phase: str = "") -> None:
    """How far the current job is (kept in the queue's storage, at most twice a second)."""
    running = current()
    if running is None:
        return
    now = time.monotonic()
    if now - running.reported_at < PROGRESS_EVERY and done < total:
        return
    running.reported_at = now
    broker.storage().put_data(_progress_key(running.job_id), json.dumps(
        {"done": done, "total": total, "phase": phase, "at": time.time()}).encode())


def progress_of(job_id: int) -> dict | None:
    try:
        raw = broker.storage().peek_data(_progress_key(job_id))
    except Exception:  # the queue's storage is unreachable: the page still loads
        log.warning("could not read the progress of job %s", job_id, exc_info=True)
        return None
    if raw is EmptyData or not raw:
        return None
    try:
        return json.loads(raw)
    except (TypeError, ValueError):
        return None


def clear_progress(job_id: int) -> None:
    try:
        broker.storage().pop_data(_progress_key(job_id))
    except Exception:
        log.warning("could not clear the progress of job %s", job_id, exc_info=True)


def _progress_key(job_id: int) -> str:
    return f"progress.{job_id}"


AT_CEILING = 0.97   # of the ceiling: what is left is less than most allocations that fail


@contextmanager
def memory_ceiling(spec):
    """Limit this worker process's memory while the job runs (workers run one job per
    process; never in the web or test process, where the queue is immediate)."""
    mb = current_app.config.get(spec.memory_mb) if spec.memory_mb else None
    if not mb or broker.backend() == "immediate":
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = int(float(mb) * 1024 * 1024)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    except Exception as e:
        # An allocation refused at the ceiling surfaces as MemoryError, as SQLite's NOMEM,
        # or from some C code as SystemError ("error return without exception set"): an
        # error raised with the address space at the ceiling is counted as memory.
        if not isinstance(e, MemoryError) and _address_space() >= limit * AT_CEILING:
            raise MemoryError(f"at the memory ceiling: {e!r}") from e
        raise
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int:
    """This process's address space now, in bytes (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0
