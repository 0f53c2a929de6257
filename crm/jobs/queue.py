"""How a job is put on the queue (crm.jobs.broker's Huey instance) and run from it.

Huey's messages only carry a job id; everything else is in the `jobs` table.
"""
from __future__ import annotations

import logging

from huey import crontab

from crm.core.transaction import after_commit
from crm.extensions import db
from crm.jobs import runner
# The queue's settings, which features read as queue.backend() and the factory sets.
from crm.jobs.broker import app, backend, configure, huey, storage  # noqa: F401
from crm.jobs.models import Job
from crm.jobs.registry import job as register_job
from crm.jobs.registry import spec as spec_of

log = logging.getLogger(__name__)


@huey.task(name="execute")
def execute(job_id: int) -> None:
    """The one Huey task: run the job row `job_id` (see crm.jobs.runner)."""
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


def periodic(name: str, *, minutes: int | None = None, label: str,
             failure: str | None = None, daily_at_hour: int | None = None):
    """Register `func(job)` as a job that runs every `minutes` minutes in a worker (or
    once a day, at `daily_at_hour` UTC)."""
    when = (crontab(minute="0", hour=str(daily_at_hour)) if daily_at_hour is not None
            else crontab(minute=f"*/{minutes}"))

    def register(func):
        register_job(name, label=label, failure=failure)(func)

        def fire():
            runner.run_periodic(name)
        fire.__name__ = f"periodic_{name.replace('.', '_')}"
        huey.periodic_task(when, name=f"periodic.{name}")(fire)
        return func
    return register
