"""Contact pages: the list, a contact, create and edit, consent, handles, ownership."""
from flask import (Blueprint, abort, flash, redirect, render_template, request, url_for)
from flask_login import current_user
from sqlalchemy import bindparam, select

from crm import policy
from crm.accounts.models import User
from crm.contacts import consent as consent_service
from crm.contacts import page_sections
from crm.contacts import services
from crm.contacts.timeline import timeline_page
from crm.contacts.forms import ConsentForm, ContactForm, HandleForm, NoteForm
from crm.contacts.models import ConsentEvent, SocialHandle, Tag
from crm.contacts.queries import SORTS, ContactFilters, list_contacts, suggest_contacts
from crm.core import transaction
from crm.core.errors import Conflict, ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.core.viewer import me
from crm.extensions import db, htmx
from crm.privacy.models import erasure_of

bp = Blueprint("contacts", __name__, url_prefix="/contacts")

INLINE_FIELDS = ("name", "first_name", "email", "phone", "company", "location", "kind",
                 "notes", "tags", "niche", "lead_source")


# The pages' lists, built once; the contact's id is bound at each use.
_ACTIVE_USERS = select(User.id, User.name).where(User.active.is_(True)).order_by(User.name)
_TAG_NAMES = select(Tag.name).order_by(Tag.name).limit(200)
_CONSENT_HISTORY = (select(ConsentEvent).where(ConsentEvent.contact_id == bindparam("contact_id"))
                    .order_by(ConsentEvent.at.desc()).limit(50))


def _owner_choices(blank="Unassigned"):
    users = db.session.execute(_ACTIVE_USERS)
    return [("", blank)] + [(str(user_id), name) for user_id, name in users]


def _filter_options():
    return {
        "owners": _owner_choices("Anyone")[1:],
        "tags": db.session.scalars(_TAG_NAMES).all(),
        "sorts": {k: v[0] for k, v in SORTS.items()},
    }


@bp.get("")
def index():
    """The contacts list: search, filters, sort, keyset pages."""
    filters = ContactFilters.from_args(request.args)
    page = list_contacts(me(), filters, request.args.get("after"))
    if htmx and not htmx.boosted and htmx.target == "contact-results":
        return render_template("contacts/_results.html", page=page, oob=True)
    return render_template("contacts/index.html", page=page, **_filter_options())


@bp.get("/suggest")
def suggest():
    """A few matching contacts for pickers (HTMX)."""
    rows = suggest_contacts(current_user, request.args.get("q", ""))
    return render_template("contacts/_suggest.html", rows=rows,
                           field=request.args.get("field", "contact_id"))


def _handles_from(form):
    return [{"platform": h.platform.data, "handle": h.handle.data,
             "followers": h.followers.data, "engagement_rate": h.engagement_rate.data}
            for h in form.handles if (h.handle.data or "").strip()]


def _contact_values(form) -> dict:
    return {k: getattr(form, k).data for k in services.EDITABLE_FIELDS}


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Create a contact, influencer or lead with its handles."""
    form = ContactForm()
    form.owner_id.choices = _owner_choices()
    if request.method == "GET":
        form.kind.data = request.args.get("kind", "contact")
        form.owner_id.data = str(current_user.id) if current_user.role == "rep" else ""
    if form.validate_on_submit():
        owner_id = int(form.owner_id.data) if form.owner_id.data else None
        if not policy.can_reassign(current_user):
            owner_id = current_user.id
        try:
            contact = services.create_contact(
                current_user, _contact_values(form), handles=_handles_from(form),
                tags=services.parse_tags(form.tags.data), owner_id=owner_id)
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
            return render_template("contacts/new.html", form=form,
                                   duplicate=getattr(e, "existing", None)), 200
        flash(f"{contact.kind_label} {contact.name} created.", "success")
        return redirect(url_for("contacts.show", contact_id=contact.id))
    return render_template("contacts/new.html", form=form, duplicate=None)


def _detail_context(contact, **extra):
    # The side column's longer forms are built only when asked for (?add=handle,
    # ?change=consent without JavaScript); otherwise the page fetches them on demand.
    consent_form = _consent_form(contact) if request.args.get("change") == "consent" else None
    handle_form = HandleForm(formdata=None) if request.args.get("add") == "handle" else None
    # Only managers reassign: a rep's page lists no users.
    owner_choices = _owner_choices() if current_user.is_manager else None
    # The timeline is fetched when it scrolls into view (contacts/_timeline.html).
    ctx = dict(contact=contact, consent_form=consent_form,
               consent_events=_consent_history(contact),
               handle_form=handle_form, note_form=NoteForm(formdata=None),
               owner_choices=owner_choices, owner_now=str(contact.owner_id or ""),
               permission=consent_service.may_contact(contact),
               panels=page_sections.render_context(me(), contact))
    ctx.update(extra)
    return ctx


def _consent_history(contact) -> list:
    """The latest 50 consent changes, newest first (as the relationship orders them)."""
    return db.session.scalars(_CONSENT_HISTORY, {"contact_id": contact.id}).all()


def _consent_form(contact) -> ConsentForm:
    status = request.args.get("to") if request.args.get("to") == "opted_in" \
        else contact.consent_status
    return ConsentForm(status=status, do_not_contact=contact.do_not_contact,
                       formdata=None)


@bp.get("/<int:contact_id>")
def show(contact_id):
    """A contact: handles, consent, conversations, deals, tasks, notes, timeline."""
    contact = policy.get_contact(current_user, contact_id)
    if contact.erased_at is not None:   # what remains of a person erased (crm.privacy)
        return render_template("privacy/erased_contact.html", contact=contact,
                               erasure=erasure_of(contact.id))
    return render_template("contacts/show.html", **_detail_context(contact))


@bp.get("/<int:contact_id>/timeline")
def timeline(contact_id):
    """Older entries of a contact's timeline: appended in place by HTMX, or a page of their
    own without JavaScript."""
    contact = policy.get_contact(current_user, contact_id)
    entries, more = timeline_page(contact, before=request.args.get("before"))
    ctx = dict(contact=contact, timeline=entries, timeline_more=more)
    if htmx and not htmx.boosted:
        return render_template("contacts/_timeline_entries.html", **ctx)
    return render_template("contacts/timeline.html", **ctx)


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
def edit(contact_id):
    """Edit every field of a contact at once."""
    contact = policy.get_contact(current_user, contact_id)
    form = ContactForm(obj=contact)
    del form.handles
    form.owner_id.choices = _owner_choices()
    if request.method == "GET":
        form.tags.data = ", ".join(t.name for t in contact.tags)
        form.version.data = contact.version
    if form.validate_on_submit():
        try:
            services.update_contact(current_user, contact, _contact_values(form),
                                    expected_version=int_or_none(form.version.data),
                                    tags=services.parse_tags(form.tags.data))
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
            if isinstance(e, Conflict):
                form.version.data = contact.version
            return render_template("contacts/edit.html", form=form, contact=contact)
        flash("Saved.", "success")
        return redirect(url_for("contacts.show", contact_id=contact.id))
    return render_template("contacts/edit.html", form=form, contact=contact)


@bp.route("/<int:contact_id>/fields/<name>", methods=["GET", "POST"])
def field(contact_id, name):
    """Edit one field in place (HTMX): GET gives the editor, POST saves and shows the value."""
    if name not in INLINE_FIELDS:
        abort(404)
    contact = policy.get_contact(current_user, contact_id)
    form = ContactForm(obj=contact)
    if name == "tags" and request.method == "GET":
        form.tags.data = ", ".join(t.name for t in contact.tags)
    if request.method == "GET":
        mode = "edit" if request.args.get("mode") != "view" else "view"
        return render_template("contacts/_field.html", contact=contact, name=name, form=form,
                               mode=mode)
    error = None
    if not form[name].validate(form):
        error = form[name].errors[0]
    else:
        try:
            if name == "tags":
                services.update_contact(current_user, contact, {},
                                        expected_version=int_or_none(request.form.get("version")),
                                        tags=services.parse_tags(form.tags.data))
            else:
                services.update_contact(current_user, contact, {name: form[name].data},
                                        expected_version=int_or_none(request.form.get("version")))
        except ServiceError as e:
            db.session.rollback()
            error = e.message
            contact = policy.get_contact(current_user, contact_id)
    if error and not htmx:
        flash(error, "error")
        return redirect(url_for("contacts.show", contact_id=contact_id))
    if not htmx:
        return redirect(url_for("contacts.show", contact_id=contact_id))
    if error is None:
        return transaction.answer_after_commit(lambda: render_template(
            "contacts/_field.html", contact=contact, name=name, form=form, mode="view"))
    return render_template("contacts/_field.html", contact=contact, name=name, form=form,
                           mode="edit", error=error)


@bp.post("/<int:contact_id>/consent")
def change_consent(contact_id):
    """Change consent (one click; opting in someone who opted out needs their word); the
    change is appended to the history."""
    contact = policy.get_contact(current_user, contact_id)
    form = ConsentForm()
    error = None
    allowed_before = consent_service.may_contact(contact).allowed
    if form.validate():
        try:
            consent_service.require_reopt_in_grounds(
                contact, form.status.data, form.source.data, form.confirm.data)
            consent_service.change_consent(
                current_user, contact, status=form.status.data,
                do_not_contact=form.do_not_contact.data, source=form.source.data or "",
                note=form.note.data)
        except ServiceError as e:
            db.session.rollback()
            error = e.message
    else:
        error = "; ".join(f"{form[k].label.text}: {v[0]}" for k, v in form.errors.items())
    if htmx:
        if not error and consent_service.may_contact(contact).allowed != allowed_before:
            # Whether they may be contacted shows all over the page (banner, message form,
            # templates, outreach tasks): it is loaded again, whole.
            flash("Consent updated.", "success")
            return "", 200, {"HX-Refresh": "true"}
        # The section alone: the rest of the page follows through the consentChanged event.
        keep = form if error and form.status.data == "opted_in" else None
        resp = render_template("contacts/_consent.html", contact=contact, error=error,
                               consent_form=keep, consent_events=_consent_history(contact))
        return resp, 200, {"HX-Trigger": "consentChanged"}
    if error and form.status.data == "opted_in":
        flash(error, "error")
        return redirect(url_for("contacts.show", contact_id=contact.id, change="consent",
                                to="opted_in", _anchor="consent"))
    flash(error or "Consent updated.", "error" if error else "success")
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.get("/<int:contact_id>/consent/form")
def consent_form(contact_id):
    """The consent form with a source and note, fetched when its section is opened."""
    contact = policy.get_contact(current_user, contact_id)
    if not htmx:
        return redirect(url_for("contacts.show", contact_id=contact.id, change="consent",
                                to=request.args.get("to")) + "#consent")
    if htmx.target == "consent-detail":   # "Opt in again…": the section opened on the form
        return render_template("contacts/_consent_detail.html", contact=contact,
                               consent_form=_consent_form(contact))
    return render_template("contacts/_consent_form.html", contact=contact,
                           consent_form=_consent_form(contact))


@bp.get("/<int:contact_id>/handles/new")
def new_handle(contact_id):
    """The add-a-handle form, fetched when "Add a handle" is clicked."""
    contact = policy.get_contact(current_user, contact_id)
    if not htmx:
        return redirect(url_for("contacts.show", contact_id=contact.id, add="handle")
                        + "#handles")
    return render_template("contacts/_handle_form.html", contact=contact,
                           handle_form=HandleForm(formdata=None), duplicate=None, focus=True)


@bp.post("/<int:contact_id>/handles")
def add_handle(contact_id):
    """Add a social handle (normalised; refused when someone else has it)."""
    contact = policy.get_contact(current_user, contact_id)
    form = HandleForm()
    duplicate = None
    if form.validate():
        try:
            services.add_handle(current_user, contact, form.platform.data, form.handle.data,
                                followers=form.followers.data,
                                engagement_rate=form.engagement_rate.data)
            contact.updated_at = db.func.now()
            form = HandleForm(formdata=None)
        except ServiceError as e:
            db.session.rollback()
            duplicate = getattr(e, "existing", None)
            apply_service_error(form, e)
    if htmx:
        return render_template("contacts/_handles.html", contact=contact, handle_form=form,
                               duplicate=duplicate)
    if form.errors:
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.post("/<int:contact_id>/handles/<int:handle_id>/delete")
def remove_handle(contact_id, handle_id):
    """Remove a handle."""
    contact = policy.get_contact(current_user, contact_id)
    handle = db.session.get(SocialHandle, handle_id)
    if handle is None or handle.contact_id != contact.id:
        abort(404)
    services.remove_handle(current_user, contact, handle)
    if htmx:
        return render_template("contacts/_handles.html", contact=contact,
                               handle_form=HandleForm(formdata=None), duplicate=None)
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.post("/<int:contact_id>/owner")
def set_owner(contact_id):
    """Reassign (managers) or claim an unassigned contact (reps)."""
    contact = policy.get_contact(current_user, contact_id)
    owner_id = int_or_none(request.form.get("owner_id"))
    try:
        services.set_owner(current_user, contact, owner_id)
        flash("Owner updated." if owner_id != current_user.id else
              f"{contact.name} is yours now.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.post("/<int:contact_id>/archive")
def archive(contact_id):
    """Archive a contact (kept, hidden from lists; restorable)."""
    contact = policy.get_contact(current_user, contact_id)
    services.archive(current_user, contact)
    flash(f"{contact.name} archived.", "success")
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.post("/<int:contact_id>/restore")
def restore(contact_id):
    """Restore an archived contact."""
    contact = policy.get_contact(current_user, contact_id)
    services.restore(current_user, contact)
    flash(f"{contact.name} restored.", "success")
    return redirect(url_for("contacts.show", contact_id=contact.id))


@bp.post("/<int:contact_id>/notes")
def add_note(contact_id):
    """Add a note to the contact's timeline."""
    contact = policy.get_contact(current_user, contact_id)
    form = NoteForm()
    if form.validate():
        services.add_note(current_user, contact, form.body.data)
        form = NoteForm(formdata=None)
    if htmx:
        entries, more = timeline_page(contact)
        return render_template("contacts/_timeline.html", contact=contact, timeline=entries,
                               timeline_more=more, note_form=form)
    if form.errors:
        flash(form.body.errors[0], "error")
    return redirect(url_for("contacts.show", contact_id=contact.id))
