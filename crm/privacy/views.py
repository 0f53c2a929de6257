"""Privacy pages: a person's data export, their erasure, and the admin's privacy page
(erasures and suppressions, retention)."""
from flask import (Blueprint, abort, flash, redirect, render_template, request, send_file,
                   url_for)
from flask_login import current_user
from sqlalchemy import bindparam, select

from crm import policy
from crm.contacts.models import Contact
from crm.core.errors import ServiceError
from crm.core.forms import apply_service_error
from crm.extensions import db, htmx
from crm.jobs import services as job_service
from crm.jobs.models import Job
from crm.privacy import export, retention, services
from crm.privacy.forms import EraseForm, RetentionForm
from crm.privacy.models import Erasure, counted
from crm.privacy.services import exports_folder

bp = Blueprint("privacy", __name__)
READING = ("GET", "HEAD", "OPTIONS")


# Only the column: a loaded Contact (its handles and tags with it) would not outlive the
# check, so the view would load it all again. Built once: every write naming a contact asks.
_ERASED_AT = select(Contact.erased_at).where(Contact.id == bindparam("id"))


@bp.before_app_request
def erased_people_stay_erased():
    """What remains of an erased person is read-only: no request that writes reaches it
    (a page, an HTMX action or the API naming it by contact_id answers 404)."""
    if request.method in READING or request.blueprint == "privacy":
        return
    contact_id = (request.view_args or {}).get("contact_id")
    if contact_id is None:
        return
    erased_at = db.session.connection().execute(_ERASED_AT, {"id": contact_id}).scalar()
    if erased_at is not None:
        abort(404)


def _contact_for_export(contact_id):
    policy.require_manager(current_user)
    contact = policy.get_contact(current_user, contact_id)
    if contact.erased_at is not None:
        abort(404)
    return contact


@bp.post("/contacts/<int:contact_id>/data-export")
def request_export(contact_id):
    """Queue the export of everything held about this person."""
    contact = _contact_for_export(contact_id)
    try:
        export.request_export(current_user, contact)
    except ServiceError as e:
        flash(e.message, "error")
    return redirect(url_for("privacy.export_status", contact_id=contact.id))


@bp.get("/contacts/<int:contact_id>/data-export")
def export_status(contact_id):
    """How the person's data export is going; its download link once it is ready."""
    contact = _contact_for_export(contact_id)
    job = export.latest_export(contact.id)
    ctx = {"contact": contact, "job": job,
           "progress": job_service.progress(job) if job is not None else None,
           "expired": job is not None and job.status == "done" and export.is_expired(job),
           "token": (export.download_token(job) if job is not None and job.status == "done"
                     and not export.is_expired(job) and (job.result or {}).get("file")
                     else None),
           "expires_at": export.expires_at(job) if job is not None else None}
    if htmx and not htmx.boosted:
        return render_template("privacy/_export_status.html", **ctx)
    return render_template("privacy/export.html", **ctx)


@bp.get("/privacy/download/<token>")
def download(token):
    """The export's zip, while its signed link is valid (the download is audited)."""
    policy.require_manager(current_user)
    job = export.job_for_token(token)
    if job is None:
        abort(404)
    policy.get_contact(current_user, job.args[0])
    path = exports_folder() / job.result["file"]
    if not path.is_file():
        abort(404)
    export.record_download(current_user, job)
    return send_file(path, mimetype="application/zip", as_attachment=True,
                     download_name=f"personal-data-{job.args[0]}.zip", max_age=0)


@bp.route("/contacts/<int:contact_id>/erase", methods=["GET", "POST"])
def erase(contact_id):
    """Erase this person's personal data everywhere, at their request (admins)."""
    policy.require_admin(current_user)
    contact = policy.get_contact(current_user, contact_id)
    if contact.erased_at is not None:
        return redirect(url_for("contacts.show", contact_id=contact.id))
    form = EraseForm()
    if form.validate_on_submit():
        try:
            services.request_erasure(current_user, contact, typed_name=form.confirm_name.data,
                                     reason=form.reason.data)
            flash("The person's data was erased. Rapport will not take them in again unless "
                  "an admin lifts that under Admin → Privacy.", "success")
            return redirect(url_for("contacts.show", contact_id=contact_id))
        except ServiceError as e:
            db.session.rollback()
            contact = policy.get_contact(current_user, contact_id)
            apply_service_error(form, e)
    return render_template("privacy/erase.html", contact=contact, form=form,
                           goes=[counted(n, what) for what, n in
                                 services.what_goes(contact).items()])


@bp.get("/admin/privacy")
def admin_page():
    """Erasures and what they suppress, retention limits and what the daily run removed."""
    policy.require_admin(current_user)
    form = RetentionForm()
    limits = retention.limits()
    form.conversations.data, form.contacts.data = limits["conversations"], limits["contacts"]
    form.consent_evidence.data = limits["consent_evidence"]
    return _admin(form)


def _admin(form):
    runs = list(db.session.scalars(select(Job).where(Job.task == "privacy.retention")
                                   .order_by(Job.id.desc()).limit(10)))
    return render_template("privacy/admin.html", form=form, erasures=services.erasures(),
                           runs=runs)


@bp.post("/admin/privacy/retention")
def save_retention():
    """Set how long closed conversations, archived contacts and consent evidence are kept."""
    policy.require_admin(current_user)
    form = RetentionForm()
    if form.validate_on_submit():
        try:
            changes = retention.save_limits(current_user, conversations=form.conversations.data,
                                            contacts=form.contacts.data,
                                            consent_evidence=form.consent_evidence.data)
            flash("Retention saved." if changes else "Nothing changed.", "success")
            return redirect(url_for("privacy.admin_page"))
        except ServiceError as e:
            apply_service_error(form, e)
    return _admin(form)


@bp.post("/admin/privacy/erasures/<int:erasure_id>/lift")
def lift(erasure_id):
    """Let an erased person be added again (they came back of their own accord)."""
    policy.require_admin(current_user)
    erasure = db.session.get(Erasure, erasure_id)
    if erasure is None:
        abort(404)
    try:
        services.lift(current_user, erasure)
        flash("Suppression lifted: this person may be added again.", "success")
    except ServiceError as e:
        flash(e.message, "error")
    return redirect(url_for("privacy.admin_page"))
