"""What only a worker process runs: the sweep on a timer, and its start-up."""
from __future__ import annotations

import logging

from flask import current_app
from huey import crontab

from crm.extensions import db
from crm.jobs.queue import app, huey, periodic
from crm.jobs.sweep import forget_finished, sweep

log = logging.getLogger(__name__)


@huey.task(name="sweep")
def sweep_now() -> None:
    with app().app_context():
        done = sweep()
        if any(done.values()):
            log.info("sweep: %s", done)


@huey.periodic_task(crontab(), name="sweep-every-minute")
def sweep_every_minute() -> None:
    """Every minute, and again every JOBS_SWEEP_SECONDS within it."""
    sweep_now.call_local()
    step = int(app().config.get("JOBS_SWEEP_SECONDS", 20))
    for delay in range(step, 60, step):
        sweep_now.schedule(delay=delay)


@huey.on_startup()
def forget_inherited_connections() -> None:
    """A worker process is forked from the consumer: it opens its own connections."""
    with app().app_context():
        db.engine.dispose(close=False)


def start_soon() -> None:
    """When a worker starts, look for jobs whose worker died, once their lease has run out."""
    lease = float(current_app.config.get("JOBS_LEASE_SECONDS", 20))
    sweep_now.schedule(delay=0)
    sweep_now.schedule(delay=lease + 1)


@periodic("jobs.forget_old", minutes=60, label="Forgetting old jobs")
def forget_old(job) -> dict:
    """Finished jobs are listed for JOBS_KEEP_DAYS days, then deleted."""
    removed = forget_finished()
    db.session.commit()
    return {"summary": f"{removed} old job{'s' if removed != 1 else ''} deleted"}
