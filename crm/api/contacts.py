"""/api/v1/contacts: the contacts list (the page's filters and keyset), a contact, creating
and editing one (the contacts services), and its consent, changed only through its own
endpoint, which records a consent event."""
from flask import abort, url_for
from flask_login import current_user
from sqlalchemy import select

from crm import policy
from crm.api import paging
from crm.api.blueprint import bp
from crm.api.schemas import (ConsentEventOut, ConsentIn, ContactArgs, ContactIn, ContactOut,
                             ContactPatch, ContactSummaryOut, HandleIn, HandleOut, PageArgs,
                             page_of)
from crm.contacts import consent, services
from crm.contacts.models import ConsentEvent, SocialHandle
from crm.contacts.queries import ContactFilters, list_contacts
from crm.extensions import db

TAG = "Contacts"
FIELDS = ("kind", "name", "first_name", "email", "phone", "company", "location", "notes")


def contact_out(contact) -> dict:
    """A contact as the API answers it (its consent read, not written)."""
    data = {name: getattr(contact, name) for name in (
        "id", "kind", "name", "first_name", "email", "phone", "company", "location", "notes",
        "owner_id", "consent_status", "do_not_contact", "consent_changed_at", "archived_at",
        "version", "created_at", "updated_at")}
    data["tags"] = sorted(t.name for t in contact.tags)
    data["handles"] = list(contact.handles)
    data["may_contact"] = consent.may_contact(contact).allowed
    return data


@bp.get("/contacts", endpoint="contacts")
@bp.input(ContactArgs, location="query")
@bp.output(page_of(ContactSummaryOut, "ContactPage"))
@bp.doc(tags=[TAG], summary="List contacts",
        description="The contacts you may see, with the filters of the contacts page; "
                    "keyset pages of `limit` rows.")
def list_(query_data):
    args = {k: ("1" if v is True else "" if v is False else str(v))
            for k, v in query_data.items() if k not in ("cursor", "limit")}
    found = list_contacts(current_user, ContactFilters.from_args(args),
                          cursor=paging.cursor_from(query_data),
                          page_size=query_data["limit"])
    return paging.page(found.rows, found.next_cursor)


@bp.get("/contacts/<int:contact_id>", endpoint="contact")
@bp.output(ContactOut)
@bp.doc(tags=[TAG], summary="Get a contact", responses=[404])
def get(contact_id):
    return contact_out(policy.get_contact(current_user, contact_id))


@bp.post("/contacts", endpoint="create_contact")
@bp.input(ContactIn)
@bp.output(ContactOut, status_code=201)
@bp.doc(tags=[TAG], summary="Create a contact",
        description="With handles and tags. Reps own what they create. A handle another "
                    "contact has is refused (422).")
def create(json_data):
    data = {k: json_data[k] for k in FIELDS if k in json_data}
    contact = services.create_contact(current_user, data, handles=json_data.get("handles", []),
                                      tags=json_data.get("tags", []),
                                      owner_id=json_data.get("owner_id"))
    db.session.flush()
    return contact_out(contact), 201, {"Location": url_for("api.contact", contact_id=contact.id)}


@bp.patch("/contacts/<int:contact_id>", endpoint="update_contact")
@bp.input(ContactPatch)
@bp.output(ContactOut)
@bp.doc(tags=[TAG], summary="Edit a contact",
        description="Only the fields sent change. Consent is not one of them: see "
                    "POST /contacts/{id}/consent. With `version`, a change made meanwhile "
                    "answers 409.", responses=[404, 409])
def update(contact_id, json_data):
    contact = policy.get_contact(current_user, contact_id)
    data = {k: json_data[k] for k in FIELDS if k in json_data}
    services.update_contact(current_user, contact, data,
                            expected_version=json_data.get("version"),
                            tags=json_data.get("tags"))
    db.session.flush()
    return contact_out(contact)


@bp.post("/contacts/<int:contact_id>/consent", endpoint="contact_consent")
@bp.input(ConsentIn)
@bp.output(ContactOut)
@bp.doc(tags=[TAG], summary="Change a contact's consent",
        description="Records a consent event (who, when, from → to, source). Opting in "
                    "again someone who opted out needs `source` and `confirm: true`. "
                    "Open outreach tasks are cancelled when outreach stops being allowed.",
        responses=[404, 409])
def change_consent(contact_id, json_data):
    contact = policy.get_contact(current_user, contact_id)
    source = (json_data.get("source") or "").strip()
    consent.require_reopt_in_grounds(contact, json_data.get("status"), source,
                                     json_data.get("confirm", False))
    consent.change_consent(current_user, contact, status=json_data.get("status"),
                           do_not_contact=json_data.get("do_not_contact"),
                           source=source or "Changed through the API",
                           note=json_data.get("note"))
    db.session.flush()
    return contact_out(contact)


@bp.get("/contacts/<int:contact_id>/consent-events", endpoint="consent_events")
@bp.input(PageArgs, location="query")
@bp.output(page_of(ConsentEventOut, "ConsentEventPage"))
@bp.doc(tags=[TAG], summary="A contact's consent history", responses=[404],
        description="Newest first.")
def consent_events(contact_id, query_data):
    contact = policy.get_contact(current_user, contact_id)
    stmt = select(ConsentEvent).where(ConsentEvent.contact_id == contact.id)
    after = paging.cursor_from(query_data)
    if after is not None:
        stmt = stmt.where(ConsentEvent.id < int(after))
    limit = query_data["limit"]
    rows = list(db.session.scalars(stmt.order_by(ConsentEvent.id.desc()).limit(limit + 1)))
    more = rows[limit - 1].id if len(rows) > limit else None
    return paging.page(rows[:limit], more)


@bp.post("/contacts/<int:contact_id>/handles", endpoint="add_handle")
@bp.input(HandleIn)
@bp.output(HandleOut, status_code=201)
@bp.doc(tags=[TAG], summary="Add a handle to a contact",
        description="Normalised as on the pages (a profile URL works too). A handle another "
                    "contact has is refused (422).", responses=[404])
def add_handle(contact_id, json_data):
    contact = policy.get_contact(current_user, contact_id)
    if not policy.can_edit_contact(current_user, contact):
        abort(404)
    handle = services.add_handle(current_user, contact, json_data["platform"],
                                 json_data["handle"], followers=json_data.get("followers"),
                                 engagement_rate=json_data.get("engagement_rate"))
    db.session.flush()
    return handle, 201


@bp.delete("/contacts/<int:contact_id>/handles/<int:handle_id>", endpoint="remove_handle")
@bp.output({}, status_code=204)
@bp.doc(tags=[TAG], summary="Remove a handle from a contact", responses=[404])
def remove_handle(contact_id, handle_id):
    contact = policy.get_contact(current_user, contact_id)
    handle = db.session.get(SocialHandle, handle_id)
    if handle is None or handle.contact_id != contact.id:
        abort(404)
    services.remove_handle(current_user, contact, handle)
    db.session.flush()
    return "", 204
