"""The sweep: jobs whose worker died go back on the queue, or fail after their last try.

It runs in a worker every minute and again 20 and 40 seconds later (JOBS_SWEEP_SECONDS),
and when a worker starts. A "running" job whose lease nobody holds lost its worker (a
restart, a crash, SIGKILL, the kernel's out-of-memory killer): its transaction never
committed, so nothing of it was written. It runs again from the start while it has
attempts left (JOBS_MAX_ATTEMPTS), else it fails with a message that says so.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select

from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.jobs import lease as leases
from crm.jobs import queue, runner
from crm.jobs.models import Job

log = logging.getLogger(__name__)
BATCH = 200


def sweep() -> dict:
    """Look at every running job once; returns what was done (for the log and tests)."""
    cfg = current_app.config
    attempts = int(cfg.get("JOBS_MAX_ATTEMPTS", 2))
    done = {"requeued": [], "failed": [], "resent": []}
    ids = db.session.scalars(select(Job.id).where(Job.status == "running")
                             .order_by(Job.id).limit(BATCH)).all()
    for job_id in ids:
        row = db.session.get(Job, job_id)
        held = leases.lease(row.lease_key)
        if not held.acquire():
            continue    # its worker is alive
        try:
            db.session.refresh(row)
            if row.status != "running":
                continue
            if row.attempts < attempts:
                log.warning("job %s (%s): its worker stopped; running it again", row.id, row.task)
                row.status, row.worker, row.queued_at = "queued", None, utcnow()
                db.session.commit()
                done["requeued"].append(row.id)
            else:
                log.error("job %s (%s): its worker stopped on the last attempt", row.id, row.task)
                runner.fail(row, "It stopped before it finished, "
                            f"{row.attempts} time{'s' if row.attempts != 1 else ''} (the "
                            "worker running it was restarted or ran out of memory). Nothing "
                            "from it was written.")
                done["failed"].append(row.id)
        finally:
            held.release()
    # A message taken off the queue by a worker that died before it started the job.
    stale = utcnow() - timedelta(minutes=float(cfg.get("JOBS_RESEND_MINUTES", 15)))
    for row in db.session.scalars(select(Job).where(Job.status == "queued",
                                                    Job.queued_at < stale).limit(BATCH)):
        row.queued_at = utcnow()
        done["resent"].append(row.id)
    db.session.commit()
    for job_id in done["requeued"] + done["resent"]:   # sent once their lease is free
        queue.send(job_id)
    return done


def forget_finished() -> int:
    """Delete done and failed jobs finished more than JOBS_KEEP_DAYS ago; the caller commits."""
    days = float(current_app.config.get("JOBS_KEEP_DAYS", 14))
    done = db.session.execute(delete(Job).where(
        Job.status.in_(("done", "failed")), Job.finished_at < utcnow() - timedelta(days=days)))
    return done.rowcount or 0
