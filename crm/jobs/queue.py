"""The Huey instance, configured from the app, and how a job is put on it.

One instance per process, configured by `configure(app)` from JOBS_BACKEND:
"sqlite" (a file in instance/, for `make run`), "redis" (REDIS_URL, production) or
"immediate" (the tests: a job runs in the enqueuing process as soon as its transaction
commits). Huey's messages only carry a job id; everything else is in the `jobs` table.
"""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from huey import Huey, crontab
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

from crm.core.transaction import after_commit
from crm.extensions import db
from crm.jobs.models import Job
from crm.jobs.registry import job as register_job
from crm.jobs.registry import spec as spec_of

log = logging.getLogger(__name__)
huey = Huey("rapport", results=False, immediate=True)
_state: dict = {"app": None, "backend": "immediate"}


def configure(app: Flask) -> None:
    """Point the queue at the app's back end; tasks run in an app context of `app`."""
    backend = app.config.get("JOBS_BACKEND") or "sqlite"
    name = app.config.get("JOBS_QUEUE_NAME") or "rapport"
    if backend == "immediate":
        storage = MemoryStorage(name)
    elif backend == "redis":
        url = app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError("JOBS_BACKEND=redis needs REDIS_URL.")
        storage = RedisStorage(name, url=url)
    elif backend == "sqlite":
        path = Path(app.config.get("JOBS_SQLITE_PATH") or Path(app.instance_path) / "jobs.sqlite3")
        path.parent.mkdir(parents=True, exist_ok=True)
        storage = SqliteStorage(name, filename=str(path))
    else:
        raise RuntimeError(f"JOBS_BACKEND must be sqlite, redis or immediate, not {backend!r}.")
    huey.name = name
    huey._immediate = backend == "immediate"
    huey.storage = storage
    _state.update(app=app, backend=backend)


def app() -> Flask:
    return _state["app"]


def backend() -> str:
    return _state["backend"]


def storage():
    return huey.storage


@huey.task(name="execute")
def execute(job_id: int) -> None:
    """The one Huey task: run the job row `job_id` (see crm.jobs.runner)."""
    from crm.jobs import runner

    runner.execute(job_id)


def enqueue(task: str, *args, user=None, subject: str | None = None,
            label: str | None = None) -> Job:
    """Add a job row now; send it to the queue when the current transaction commits."""
    spec = spec_of(task)
    if spec is None:
        raise LookupError(f"no job called {task!r} (is its module imported by create_app?)")
    row = Job(task=task, args=list(args), subject=subject, label=(label or spec.label)[:200],
              user_id=getattr(user, "id", None), status="queued")
    db.session.add(row)
    db.session.flush()
    send_after_commit(row.id)
    return row


def send_after_commit(job_id: int) -> None:
    """Queue `job_id` once the session's transaction commits (never on a rollback)."""
    after_commit(send, job_id)


def send(job_id: int) -> None:
    """Put a committed job on the queue now (if that fails, the row stays queued and the
    sweep sends it again)."""
    execute(job_id)


def periodic(name: str, *, minutes: int, label: str, failure: str | None = None):
    """Register `func(job)` as a job that runs every `minutes` minutes in a worker."""
    def register(func):
        register_job(name, label=label, failure=failure)(func)

        def fire():
            from crm.jobs import runner

            runner.run_periodic(name)
        fire.__name__ = f"periodic_{name.replace('.', '_')}"
        huey.periodic_task(crontab(minute=f"*/{minutes}"), name=f"periodic.{name}")(fire)
        return func
    return register
