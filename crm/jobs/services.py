"""What the admin page does with jobs: list them by state, retry a failed one."""
from __future__ import annotations

from sqlalchemy import select

from crm import policy
from crm.audit import services as audit
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.jobs import queue, runner
from crm.jobs.models import Job
from crm.jobs.registry import spec as spec_of

LISTED = 50


def lists() -> dict[str, list[Job]]:
    """Queued (oldest first), running, failed and finished (newest first) jobs."""
    def newest(*statuses, oldest_first=False):
        order = Job.id.asc() if oldest_first else Job.id.desc()
        return list(db.session.scalars(select(Job).where(Job.status.in_(statuses))
                                       .order_by(order).limit(LISTED)))
    return {"running": newest("running"), "queued": newest("queued", oldest_first=True),
            "failed": newest("failed"), "done": newest("done")}


def progress(job: Job) -> dict:
    """done / total / percent / phase: live from the worker while it runs, else the row's."""
    live = runner.progress_of(job.id) if job.status == "running" else None
    done = live["done"] if live else job.progress_done
    total = (live["total"] if live else job.progress_total) or 0
    return {"done": done, "total": total, "phase": (live or {}).get("phase", ""),
            "percent": min(100, int(done * 100 / total)) if total else None}


def retry(actor, job_id: int) -> Job:
    """Send a failed job back to the queue (what it worked on gets ready again first)."""
    policy.require_admin(actor)
    job = db.session.get(Job, job_id)
    if job is None:
        raise ValidationFailed("There is no such job.")
    if job.status != "failed":
        raise ValidationFailed("Only a failed job can be retried.")
    spec = spec_of(job.task)
    if spec is None:
        raise ValidationFailed("This kind of job no longer exists.")
    if spec.on_retry is not None:
        spec.on_retry(job)
    job.status, job.error, job.attempts = "queued", None, 0
    job.queued_at, job.finished_at, job.worker = utcnow(), None, None
    audit.record(actor, "retry", job, summary=f"Job #{job.id} ({job.label}) sent to the queue again")
    queue.send_after_commit(job.id)
    return job
