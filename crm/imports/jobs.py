"""The imports' background jobs: reading an upload, checking a CSV, writing an import.

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
from crm.imports.contacts_csv import services as csv_service
from crm.imports.dm_exports import services as dm_service
from crm.imports.models import ACTIVE_STATUSES, ImportRun
from crm.jobs import queue
from crm.jobs.models import Job
from crm.jobs.registry import on_failure, on_retry

NOTHING_WRITTEN = "Nothing was imported."
# job name → (what it does, the run status it starts from, the service function it runs,
# and the start of what the user reads when it fails for a reason of ours)
STEPS = {
    "imports.read_dm": ("Reading a DM export", "analysing", dm_service, "analyse",
                        "The export could not be read"),
    "imports.write_dm": ("DM import", "running", dm_service, "run_import",
                         "The import stopped"),
    "imports.check_csv": ("Checking a contacts CSV", "analysing", csv_service, "check",
                          "The file could not be checked"),
    "imports.write_csv": ("Contacts CSV import", "running", csv_service, "run_import",
                          "The import stopped"),
}


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


def _step(service, function: str):
    def step(job, run_id: int) -> None:
        getattr(service, function)(run_id)
    step.__name__ = function
    return step


for _name, (_label, _status, _service, _function, _what) in STEPS.items():
    jobs.job(_name, label=_label, memory_mb="IMPORT_MEMORY_MB",
             failure=f"{_what} because of an error on our side. It was logged for the "
                     f"administrators. {NOTHING_WRITTEN}")(_step(_service, _function))


@jobs.job("imports.cli_dm", label="DM import from the command line",
          memory_mb="IMPORT_MEMORY_MB",
          failure="The import stopped because of an error on our side (see the worker's "
                  "log). " + NOTHING_WRITTEN)
def cli_dm(job, path: str, options: dict) -> dict:
    """`flask import-dms`: the whole import (read once, write in one transaction)."""
    from crm.imports.dm_exports.cli_run import ImportFailed, run_cli_import

    notes: list[str] = []
    workers = options.pop("workers", None)
    if workers is None and queue.backend() == "immediate":
        workers = 0     # run in the enqueuing process: read in-line
    _earlier_tries_failed(job)
    try:
        summary = run_cli_import(path, **options, workers=workers, job_id=job.id,
                                 progress=jobs.report_progress, report=notes.append)
    except ImportFailed as e:
        raise jobs.JobFailed(str(e)) from None
    return {**summary, "notes": notes}


def _earlier_tries_failed(job: Job, message: str | None = None) -> None:
    """A command-line import makes its run as it goes: runs left "running" by an earlier
    try of the same job (its worker died; nothing of them was committed) are marked failed."""
    for run in db.session.scalars(select(ImportRun).where(
            ImportRun.status == "running", ImportRun.kind == "dm",
            ImportRun.options["job_id"].as_integer() == job.id)):
        dm_service.fail(run, message or "The worker stopped before this import finished; it "
                        "was started again as a new import. Nothing from this try was written.")
    db.session.commit()


def enqueue_cli_import(path: str, **options) -> int:
    """Queue a command-line import and commit; returns the job's id."""
    job = jobs.enqueue("imports.cli_dm", path, options,
                       label=f"DM import from the command line: {Path(path).name}"[:200])
    db.session.commit()
    return job.id


def _failed(job: Job, message: str) -> None:
    """The run shows the job's message; its upload is kept so the job can be retried."""
    run = run_of(job)
    if run is not None and run.is_active:
        dm_service.fail(run, message if NOTHING_WRITTEN in message or "written" in message
                        else f"{message} {NOTHING_WRITTEN}", keep_upload=True)


def _again(job: Job) -> None:
    """A failed import can run again while its upload is still there."""
    run = run_of(job)
    if run is None or not run.stored_path or not Path(run.stored_path).exists():
        raise ValidationFailed("The upload of this import was already deleted: it has to be "
                               "uploaded again.")
    run.status, run.problems, run.finished_at, run.progress_done = \
        STEPS[job.task][1], [], None, 0


for _name in STEPS:
    on_failure(_name)(_failed)
    on_retry(_name)(_again)
on_failure("imports.cli_dm")(lambda job, message: _earlier_tries_failed(job, message))


@jobs.periodic("imports.clean_up", minutes=30, label="Clean-up of old uploads")
def clean_up(job) -> dict:
    """Delete what imports leave behind once it is IMPORT_ABANDONED_HOURS old."""
    from crm.imports import cleanup

    removed = cleanup.clean_up()
    db.session.commit()
    return {"summary": ", ".join(f"{n} {what}" for what, n in removed.items()) or "nothing old"}
