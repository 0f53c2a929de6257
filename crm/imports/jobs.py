"""What every import job shares: starting one, the limits on how many run, what a failure
or a retry does to its run, and the periodic clean-up. Each importer registers its own steps
(crm.imports.contacts_csv.jobs, crm.imports.dm_exports.jobs) with `step`.

A page only enqueues one of these and shows the run's progress. Every job works on one
run (its lease is the run's: one worker per run at a time), looks at the run's status
first (a job delivered twice, or run again after its worker died, does nothing twice), and
writes the import in one transaction that a killed worker never commits.
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from crm import jobs
from crm.core.errors import ValidationFailed
from crm.extensions import db
from crm.imports import cleanup, runs
from crm.imports.models import ACTIVE_STATUSES, ImportRun
from crm.jobs.models import Job
from crm.jobs.registry import on_failure, on_retry

NOTHING_WRITTEN = "Nothing was imported."
# job name → (what it does, the run status it starts from); each importer's jobs module
# adds its steps with `step(...)`, so this module knows neither importer.
STEPS: dict[str, tuple[str, str]] = {}


def subject(run_id: int) -> str:
    return f"import-run:{int(run_id)}"


def start(actor, run: ImportRun, task: str) -> Job:
    """Queue `task` for the run (sent when the request commits)."""
    label = STEPS[task][0]
    return jobs.enqueue(task, run.id, user=actor, subject=subject(run.id),
                        label=f"{label}: {run.filename}")


def check_limits(actor) -> None:
    """At most IMPORTS_RUNNING_PER_USER imports per user and IMPORTS_RUNNING_IN_ALL in all
    are read or written at once; the next one is refused with a message that says so."""
    cfg = current_app.config
    mine_limit = int(cfg.get("IMPORTS_RUNNING_PER_USER", 2))
    all_limit = int(cfg.get("IMPORTS_RUNNING_IN_ALL", 6))
    active = ImportRun.status.in_(ACTIVE_STATUSES)
    everyone, mine = db.session.execute(select(
        func.count(ImportRun.id),
        func.count(ImportRun.id).filter(ImportRun.created_by_id == actor.id))
        .where(active)).one()
    if mine >= mine_limit:
        raise ValidationFailed(
            f"You already have {mine} import{'s' if mine != 1 else ''} being read or written "
            f"(at most {mine_limit} at a time). Wait until one has finished, then try again.")
    if everyone >= all_limit:
        raise ValidationFailed(
            f"{everyone} imports are being read or written right now, the most this server "
            "runs at once. Try again in a few minutes; your upload was not kept.")


def run_of(job: Job) -> ImportRun | None:
    return db.session.get(ImportRun, int(job.args[0])) if job.args else None


def step(name: str, *, label: str, starts_from: str, work, failure: str) -> None:
    """Register the job `name`: it does `work(run_id)` on a run in status `starts_from`;
    `failure` starts what the user reads when it fails for a reason of ours."""
    def run_step(job, run_id: int) -> None:
        work(run_id)
    run_step.__name__ = work.__name__
    STEPS[name] = (label, starts_from)
    jobs.job(name, label=label, memory_mb="IMPORT_MEMORY_MB",
             failure=f"{failure} because of an error on our side. It was logged for the "
                     f"administrators. {NOTHING_WRITTEN}")(run_step)
    on_failure(name)(_failed)
    on_retry(name)(_again)


def _failed(job: Job, message: str) -> None:
    """The run shows the job's message; its upload is kept so the job can be retried."""
    run = run_of(job)
    if run is not None and run.is_active:
        runs.fail(run, message if NOTHING_WRITTEN in message or "written" in message
                  else f"{message} {NOTHING_WRITTEN}", keep_upload=True)


def _again(job: Job) -> None:
    """A failed import can run again while its upload is still there."""
    run = run_of(job)
    if run is None or not run.stored_path or not Path(run.stored_path).exists():
        raise ValidationFailed("The upload of this import was already deleted: it has to be "
                               "uploaded again.")
    run.status, run.problems, run.finished_at, run.progress_done = \
        STEPS[job.task][1], [], None, 0


@jobs.periodic("imports.clean_up", minutes=30, label="Clean-up of old uploads")
def clean_up(job) -> dict:
    """Delete what imports leave behind once it is IMPORT_ABANDONED_HOURS old."""
    removed = cleanup.clean_up()
    db.session.commit()
    return {"summary": ", ".join(f"{n} {what}" for what, n in removed.items()) or "nothing old"}
