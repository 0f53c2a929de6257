"""`flask jobs worker`: the process that runs background jobs; `flask jobs sweep`."""
from __future__ import annotations

import logging
import os

import click
from flask import Flask

from crm.jobs import queue, worker as _worker_tasks
from crm.jobs.sweep import sweep as run_sweep


def register(app: Flask) -> None:
    @app.cli.group("jobs")
    def jobs():
        """Background jobs."""

    @jobs.command("worker")
    @click.option("--processes", "-w", type=int, default=2, show_default=True,
                  help="Jobs this worker runs at once, each in its own process.")
    @click.option("--nice", type=click.IntRange(0, 19), default=10, show_default=True,
                  help="How much lower than the web's the worker's CPU priority is: on a "
                       "machine serving both, pages and webhooks answer first.")
    def worker(processes, nice):
        """Run background jobs (imports, follow-ups, clean-up) until stopped."""
        if queue.backend() == "immediate":
            raise click.ClickException("JOBS_BACKEND is immediate: jobs run where they are "
                                       "queued, there is nothing for a worker to do.")
        if nice:
            os.nice(nice)
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
        # Huey logs every task it runs, the sweep every 20 s included; jobs log themselves.
        logging.getLogger("huey").setLevel(logging.WARNING)
        logging.getLogger("huey.consumer").setLevel(logging.INFO)
        _worker_tasks.start_soon()
        # Redis hands a job over as soon as it is queued; the SQLite queue is polled, at
        # least once a second (Huey's default backs off to 10 s when idle).
        consumer = queue.huey.create_consumer(workers=processes, worker_type="process",
                                              periodic=True, check_worker_health=True,
                                              health_check_interval=5, max_delay=1.0)
        consumer.run()

    @jobs.command("sweep")
    def sweep():
        """Send jobs whose worker died back to the queue (a worker does this every 20 s)."""
        click.echo(run_sweep())
