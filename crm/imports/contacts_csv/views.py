"""The review of a contacts CSV: map its columns, see what every row will do, confirm."""
from flask import flash, redirect, request, url_for
from flask_login import current_user

from crm import policy
from crm.core.errors import ServiceError
from crm.extensions import db
from crm.imports import jobs
from crm.imports.contacts_csv import services as csv_service
from crm.imports.contacts_csv.read import FIELDS, HANDLE_WORDS
from crm.imports.blueprint import bp
from crm.imports.forms import posted_version

CONTACT_FIELDS = [k for k in FIELDS if not k.startswith("handle:")]
HANDLE_FIELDS = [f"handle:{p}" for p in HANDLE_WORDS]


def review_context(run) -> dict:
    o = run.options
    columns = [{"index": i, "header": h, "field": o["mapping"][i],
                "samples": [row[i] for row in o["samples"] if i < len(row) and row[i]]}
               for i, h in enumerate(o["headers"])]
    return {"run": run, "o": o, "stage": o.get("stage", "mapping"), "columns": columns,
            "check": o.get("check"), "fields": FIELDS, "contact_fields": CONTACT_FIELDS,
            "handle_fields": HANDLE_FIELDS}


@bp.post("/imports/<int:run_id>/mapping")
def save_mapping(run_id):
    """Keep the column mapping and check every row (nothing is written)."""
    run = policy.get_import(current_user, run_id, kind="csv")
    mapping = [request.form.get(f"col-{i}", "") for i in range(len(run.options["headers"]))]
    try:
        jobs.check_limits(current_user)
        csv_service.save_mapping(current_user, run, mapping, expected_version=posted_version())
        jobs.start(current_user, run, "imports.check_csv")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("imports.show", run_id=run.id))
    return redirect(url_for("imports.show", run_id=run.id))


@bp.post("/imports/<int:run_id>/remap")
def remap(run_id):
    """Go back to the column mapping."""
    run = policy.get_import(current_user, run_id, kind="csv")
    try:
        csv_service.back_to_mapping(current_user, run, expected_version=posted_version())
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("imports.show", run_id=run.id))


def confirm_csv(run):
    """Start writing the checked rows (valid rows only when the user chose so)."""
    try:
        jobs.check_limits(current_user)
        csv_service.confirm(current_user, run, valid_only=request.form.get("valid_only") == "1",
                            expected_version=posted_version())
        jobs.start(current_user, run, "imports.write_csv")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("imports.show", run_id=run.id))
    return redirect(url_for("imports.show", run_id=run.id))
