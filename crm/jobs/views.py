"""/admin/jobs: what the workers are doing, what waits, what failed; retry a failed job."""
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from crm import policy
from crm.accounts.forms import EmptyForm
from crm.core.errors import ServiceError
from crm.extensions import db, htmx
from crm.jobs import queue, services

bp = Blueprint("jobs", __name__, url_prefix="/admin/jobs")


@bp.before_request
def admins_only():
    policy.require_admin(current_user)


@bp.get("")
def index():
    """Background jobs: running, queued, failed and finished, with progress and errors."""
    ctx = {"lists": services.lists(), "progress": services.progress, "empty": EmptyForm(),
           "backend": queue.backend()}
    if htmx and not htmx.boosted and htmx.target == "job-lists":
        return render_template("admin/_jobs.html", **ctx)
    return render_template("admin/jobs.html", **ctx)


@bp.post("/<int:job_id>/retry")
def retry(job_id):
    """Send a failed job back to the queue."""
    if not EmptyForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("jobs.index"))
    try:
        job = services.retry(current_user, job_id)
        flash(f"Job #{job.id} is queued again.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("jobs.index"))
