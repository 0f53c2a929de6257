"""Bulk actions: the selection bar's POSTs on the contacts list and the inbox, their CSV
export, and Undo. Every answer is a redirect back to the list (PRG), where the summary shows;
htmx (the body's hx-boost) makes the same round trip without a page load."""

from flask import (Blueprint, Response, abort, flash, redirect, request, session,
                   stream_with_context, url_for)
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from crm.audit import services as audit
from crm.bulk import selection, services
from crm.bulk.forms import ContactsBulkForm, ContactsExportForm, InboxBulkForm, first_error
from crm.contacts.queries import ContactFilters
from crm.conversations.queries import InboxFilters
from crm.core.errors import ServiceError
from crm.core.links import local_path
from crm.core.timeutil import utcnow
from crm.core.viewer import me
from crm.extensions import db
from crm.imports.contacts_csv import export as csv_export

bp = Blueprint("bulk", __name__, url_prefix="/bulk")
SUMMARY_KEY = "bulk_change"
CHANGED_MEANWHILE = ("Someone changed some of these records while this ran, so nothing was "
                     "changed. Look at the list again and retry.")


def _back(default: str) -> str:
    return local_path(request.form.get("next"), default)


def _refuse(message: str, back: str):
    db.session.rollback()
    flash(message, "error")
    return redirect(back)


def _done(change, back: str):
    session[SUMMARY_KEY] = change.id
    return redirect(back)


@bp.app_template_global("bulk_options")
def bulk_options(with_campaigns: bool = True) -> dict:
    """What a list's selection bar offers the signed-in user (its templates ask)."""
    return services.bar_options(me(), with_campaigns=with_campaigns)


@bp.app_context_processor
def bulk_summary():
    """The summary of the bulk action just done, once, on the page it came back to."""
    fragment = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
    if fragment or SUMMARY_KEY not in session or not current_user.is_authenticated:
        return {}
    change = services.get_change(me(), session.pop(SUMMARY_KEY))
    return {"bulk_change": change, "bulk_can_undo": change is not None
            and services.can_undo(change), "bulk_undo_window": services.UNDO_MINUTES}


@bp.post("/contacts")
def contacts():
    """Reassign, tag, add to a campaign, archive or restore the ticked contacts, or all
    contacts matching the list's filters."""
    form = ContactsBulkForm()
    back = _back(url_for("contacts.index"))
    if not form.validate():
        return _refuse(first_error(form), back)
    user, action = me(), form.action.data
    try:
        chosen = selection.contacts(user, form.scope.data, form.ids.data,
                                    ContactFilters.from_args(request.form))
        if action == "reassign":
            change = services.reassign(user, chosen, form.owner_id.data)
        elif action == "tag":
            change = services.add_tag(user, chosen, form.new_tag.data)
        elif action == "campaign":
            change = services.add_to_campaign(user, chosen, form.campaign_id.data)
        else:
            change = services.archive(user, chosen, restore=action == "restore")
    except ServiceError as e:
        return _refuse(e.message, back)
    except StaleDataError:
        return _refuse(CHANGED_MEANWHILE, back)
    return _done(change, back)


@bp.post("/contacts/export.csv")
def export_contacts():
    """The ticked contacts, or all matching the list's filters, as CSV (streamed)."""
    form = ContactsExportForm()
    back = _back(url_for("contacts.index"))
    if not form.validate():
        return _refuse(first_error(form), back)
    filters = ContactFilters.from_args(request.form)
    try:
        where = selection.contact_where(me(), form.scope.data, form.ids.data, filters)
    except ServiceError as e:
        return _refuse(e.message, back)
    audit.record(current_user, "export", None, entity_type="contact",
                 summary="Selected contacts exported to CSV",
                 changes={"filters": filters.as_args(), "scope": form.scope.data})
    stamp = utcnow().strftime("%Y-%m-%d")
    body = stream_with_context(csv_export.lines_where(where, filters.sort))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="rapport-contacts-{stamp}.csv"',
        "Cache-Control": "no-store"})


@bp.post("/inbox")
def inbox():
    """Mark no reply needed, snooze or reassign the ticked conversations, or all matching."""
    form = InboxBulkForm()
    back = _back(url_for("conversations.inbox"))
    if not form.validate():
        return _refuse(first_error(form), back)
    user, action = me(), form.action.data
    try:
        chosen = selection.conversations(user, form.scope.data, form.ids.data,
                                         InboxFilters.from_args(request.form))
        if action == "close":
            change = services.close(user, chosen)
        elif action == "snooze":
            change = services.snooze(user, chosen, form.snooze.data)
        else:
            change = services.reassign(user, chosen, form.owner_id.data,
                                       entity_type="conversation")
    except ServiceError as e:
        return _refuse(e.message, back)
    except StaleDataError:
        return _refuse(CHANGED_MEANWHILE, back)
    return _done(change, back)


@bp.post("/<int:change_id>/undo")
def undo(change_id):
    """Undo a bulk action of one's own, row by row, leaving rows changed since as they are."""
    change = services.get_change(me(), change_id)
    if change is None:
        abort(404)
    back = _back(url_for("contacts.index"))
    try:
        text = services.undo(me(), change)
    except ServiceError as e:
        return _refuse(e.message, back)
    except StaleDataError:
        return _refuse(CHANGED_MEANWHILE, back)
    flash(text, "success")
    return redirect(back)
