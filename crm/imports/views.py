"""Import pages: upload, review, progress, result; and the contacts CSV export."""
from flask import (Response, flash, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from crm import policy
from crm.accounts.models import User
from crm.audit import services as audit
from crm.contacts.queries import ContactFilters
from crm.conversations.models import Conversation
from crm.core.errors import ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.core.timeutil import utcnow
from crm.extensions import db, htmx
from crm.imports import jobs, services, storage, versions
from crm.imports.contacts_csv import export as csv_export, services as csv_service
from crm.imports.contacts_csv.views import confirm_csv, review_context
from crm.imports.dm_exports import services as dm_service
from crm.imports.dm_exports.views import confirm_dm, preview_context
from crm.imports.forms import CSVUploadForm, DMUploadForm, posted_version, zone_choices
from crm.imports.blueprint import bp



def _owner_choices():
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [(str(u.id), u.name) for u in users]


def _forms(dm=None, csv=None):
    dm = dm or DMUploadForm(formdata=None, tz=current_user.timezone or "UTC",
                            owner_id=str(current_user.id))
    csv = csv or CSVUploadForm(formdata=None, owner_id="" if current_user.is_manager
                               else str(current_user.id))
    dm.tz.choices = zone_choices()
    dm.owner_id.choices = _owner_choices()
    csv.owner_id.choices = [("", "Unassigned")] + _owner_choices()
    return dm, csv


def _index(dm=None, csv=None, status=200):
    dm, csv = _forms(dm, csv)
    runs, more = services.past_runs(current_user, request.args.get("before", type=int))
    if htmx and not htmx.boosted and htmx.target == "import-runs":
        return render_template("imports/_runs.html", runs=runs, more=more)
    return render_template("imports/index.html", dm_form=dm, csv_form=csv, runs=runs,
                           more=more), status


@bp.get("/imports")
def index():
    """Upload a DM export or a contacts CSV; the list of past imports."""
    return _index()


def _owner_of(form):
    return int_or_none(form.owner_id.data)


@bp.post("/imports/dm")
def upload_dm():
    """Keep an uploaded DM export and start reading it (nothing is imported yet)."""
    form = DMUploadForm()
    _forms(dm=form)
    if not form.validate_on_submit():
        return _index(dm=form)
    try:
        jobs.check_limits(current_user)
        run = dm_service.start_upload(
            current_user, [(f.filename, f.stream) for f in form.file.data if f.filename],
            tz=form.tz.data, owner_id=_owner_of(form), new_kind=form.new_kind.data)
        jobs.start(current_user, run, "imports.read_dm")
    except ServiceError as e:
        db.session.rollback()
        apply_service_error(form, e)
        return _index(dm=form)
    return redirect(url_for("imports.show", run_id=run.id))


@bp.post("/imports/csv")
def upload_csv():
    """Keep an uploaded contacts CSV and guess its columns (nothing is imported yet)."""
    form = CSVUploadForm()
    _forms(csv=form)
    if not form.validate_on_submit():
        return _index(csv=form)
    try:
        run = csv_service.start_upload(
            current_user, [(f.filename, f.stream) for f in form.file.data if f.filename],
            owner_id=_owner_of(form))
    except ServiceError as e:
        db.session.rollback()
        apply_service_error(form, e)
        return _index(csv=form)
    return redirect(url_for("imports.show", run_id=run.id))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(e):
    db.session.rollback()
    limit = storage.max_upload_bytes() // (1024 * 1024)
    flash(f"The upload is larger than the {limit} MB allowed. Upload the message files from "
          "inside the zip, or ask an admin to raise MAX_UPLOAD_MB.", "error")
    return _index(status=200 if request.headers.get("HX-Request") else 413)


@bp.get("/imports/<int:run_id>")
def show(run_id):
    """One import: its progress, its review (before anything is written), or its result."""
    run = policy.get_import(current_user, run_id)
    if run.is_active:
        return render_template("imports/running.html", run=run,
                               progress=services.progress(run))
    if run.status == "previewed" and run.kind == "dm":
        return render_template("imports/dm_preview.html", **preview_context(run))
    if run.status == "previewed":
        return render_template("imports/csv_review.html", **review_context(run))
    conversations, more = [], 0
    if run.kind == "dm" and run.status == "done":
        touched = run.options.get("touched") or []
        conversations = db.session.scalars(
            select(Conversation).where(Conversation.id.in_(touched),
                                       policy.conversation_scope(current_user))
            .order_by(Conversation.last_message_at.desc())).all() if touched else []
        more = max(0, run.counts.get("conversations", 0) - len(touched))
    return render_template("imports/result.html", run=run, conversations=conversations,
                           more_conversations=more)


@bp.get("/imports/<int:run_id>/progress")
def progress(run_id):
    """The progress bar (HTMX polls it); once finished, the page reloads to the result."""
    run = policy.get_import(current_user, run_id)
    if not run.is_active:
        if htmx:
            return "", 200, {"HX-Redirect": url_for("imports.show", run_id=run.id)}
        return redirect(url_for("imports.show", run_id=run.id))
    return render_template("imports/_progress.html", run=run, progress=services.progress(run))


@bp.post("/imports/<int:run_id>/confirm")
def confirm(run_id):
    """Start the import as reviewed (a DM export saves the page's choices first)."""
    run = policy.get_import(current_user, run_id)
    return confirm_csv(run) if run.kind == "csv" else confirm_dm(run)


@bp.post("/imports/<int:run_id>/cancel")
def cancel(run_id):
    """Throw away an import that has not started; its stored file is deleted."""
    run = policy.get_import(current_user, run_id)
    try:
        dm_service.cancel(current_user, run, expected_version=posted_version())
        audit.record(current_user, "cancel", run, summary=f"Import of {run.filename} cancelled")
        flash("Import cancelled; nothing was imported and the file was deleted.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("imports.show", run_id=run.id))
    return redirect(url_for("imports.index"))


@bp.get("/contacts/export.csv")
def export_contacts():
    """The contacts list as CSV, with its current filters (only contacts you may see)."""
    filters = ContactFilters.from_args(request.args)
    audit.record(current_user, "export", None, entity_type="contact",
                 summary="Contacts exported to CSV",
                 changes={"filters": filters.as_args()})
    stamp = utcnow().strftime("%Y-%m-%d")
    body = stream_with_context(csv_export.export_lines(current_user, filters))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="rapport-contacts-{stamp}.csv"',
        "Cache-Control": "no-store"})


# The review steps of each kind live beside this file; they register on the same blueprint.
