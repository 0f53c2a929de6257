"""The DM export importer's jobs: reading an upload, writing an import, and the command line's
whole import (see crm.imports.jobs for what every import job shares)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from crm import jobs
from crm.extensions import db
from crm.imports import runs
from crm.imports.dm_exports import services as dm_service
from crm.imports.dm_exports.cli_run import ImportFailed, run_cli_import
from crm.imports.jobs import NOTHING_WRITTEN, step
from crm.imports.models import ImportRun
from crm.jobs import queue
from crm.jobs.models import Job
from crm.jobs.registry import on_failure

step("imports.read_dm", label="Reading a DM export", starts_from="analysing",
     work=dm_service.analyse, failure="The export could not be read")
step("imports.write_dm", label="DM import", starts_from="running",
     work=dm_service.run_import, failure="The import stopped")


@jobs.job("imports.cli_dm", label="DM import from the command line",
          memory_mb="IMPORT_MEMORY_MB",
          failure="The import stopped because of an error on our side (see the worker's "
                  "log). " + NOTHING_WRITTEN)
def cli_dm(job, path: str, options: dict) -> dict:
    """`flask import-dms`: the whole import (read once, write in one transaction)."""
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
        runs.fail(run, message or "The worker stopped before this import finished; it was "
                  "started again as a new import. Nothing from this try was written.")
    db.session.commit()


def enqueue_cli_import(path: str, **options) -> int:
    """Queue a command-line import and commit; returns the job's id."""
    job = jobs.enqueue("imports.cli_dm", path, options,
                       label=f"DM import from the command line: {Path(path).name}"[:200])
    db.session.commit()
    return job.id


on_failure("imports.cli_dm")(lambda job, message: _earlier_tries_failed(job, message))
