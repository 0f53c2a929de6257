"""Contact rules: create, edit, handles, tags, ownership, archive."""
from sqlalchemy import select

from crm import policy
from crm.accounts.models import User
from crm.audit import services as audit
from crm.contacts import dm_counts, owner_copies
from crm.contacts.consent import cancel_outreach_tasks
from crm.contacts.handles import HandleError, normalize_handle, profile_url
from crm.contacts.models import KINDS, PLATFORMS, Contact, Note, SocialHandle, Tag
from crm.core.errors import Conflict, ValidationFailed
from crm.core.models import conflict_if_changed_meanwhile
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.webhooks import outbox
from crm.privacy import models as suppression

EDITABLE_FIELDS = ("kind", "name", "first_name", "email", "phone", "company", "location",
                   "notes", "niche", "rate_per_post_minor", "currency", "lead_source",
                   "estimated_value_minor")


class DuplicateHandle(ValidationFailed):
    """(platform, handle) already belongs to another contact. `existing` is that handle when
    the user may see its contact, else None: the message then names nobody, so guessing
    handles cannot list another rep's clients."""

    def __init__(self, handle: SocialHandle, *, visible: bool, field: str | None = "handle"):
        self.existing = handle if visible else None
        whose = handle.contact.name if visible else "a contact you cannot see"
        super().__init__(f"{handle.platform_label} {handle.display} already belongs to "
                         f"{whose}.", field=field)


def refresh_search_text(contact: Contact) -> None:
    """What the search box looks in: name, handles, email, company (lower-cased)."""
    parts = [contact.name, contact.email, contact.company]
    parts += [h.handle for h in contact.handles]
    contact.search_text = " ".join(p.strip().lower() for p in parts if p)


def _clean(data: dict) -> dict:
    out = {}
    for key in EDITABLE_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, str):
            value = value.strip() or None
        out[key] = value
    if "name" in out and not out["name"]:
        raise ValidationFailed("Name is required.", field="name")
    if "kind" in out and out["kind"] not in KINDS:
        raise ValidationFailed(f"Kind must be one of: {', '.join(KINDS)}.", field="kind")
    if out.get("email"):
        out["email"] = out["email"].lower()
    if "currency" in out:
        out["currency"] = (out["currency"] or "USD").upper()
    for money in ("rate_per_post_minor", "estimated_value_minor"):
        if out.get(money) is not None and out[money] < 0:
            raise ValidationFailed("Amounts cannot be negative.", field=money)
    return out


def find_handle(platform: str, handle: str) -> SocialHandle | None:
    return db.session.execute(
        select(SocialHandle).where(SocialHandle.platform == platform,
                                   SocialHandle.handle == handle)).scalar_one_or_none()


def add_handle(actor, contact: Contact, platform: str, raw: str, *, followers: int | None = None,
               engagement_rate: float | None = None, account_id: str | None = None,
               field: str = "handle", audited: bool = True) -> SocialHandle:
    """Attach a normalised handle; refuses one that another contact already has."""
    if platform not in PLATFORMS:
        raise ValidationFailed(f"Unknown platform “{platform}”.", field="platform")
    try:
        handle = normalize_handle(platform, raw)
    except HandleError as e:
        raise ValidationFailed(str(e), field=field)
    existing = find_handle(platform, handle)
    if existing is not None:
        if existing.contact_id == contact.id:
            return existing
        visible = actor is None or policy.can_view_contact(actor, existing.contact)
        raise DuplicateHandle(existing, visible=visible, field=field)
    suppression.refuse_if_suppressed(
        suppression.contact_identifiers(handles=[(platform, handle)])
        + [("account", account_id, platform)], field=field)
    if followers is not None and followers < 0:
        raise ValidationFailed("Audience size cannot be negative.", field="followers")
    if engagement_rate is not None and not 0 <= engagement_rate <= 100:
        raise ValidationFailed("Engagement rate is a percentage between 0 and 100.",
                               field="engagement_rate")
    row = SocialHandle(platform=platform, handle=handle, followers=followers,
                       engagement_rate=engagement_rate, account_id=account_id,
                       profile_url=profile_url(platform, handle))
    contact.handles.append(row)
    refresh_search_text(contact)
    if audited:
        audit.record(actor, "update", contact, summary=f"Handle {row.display} added",
                     changes={"handle": [None, f"{platform}:{handle}"]})
    return row


def remove_handle(actor, contact: Contact, handle: SocialHandle) -> None:
    if handle.contact_id != contact.id:
        raise ValidationFailed("That handle belongs to another contact.")
    contact.handles.remove(handle)
    refresh_search_text(contact)
    audit.record(actor, "update", contact, summary=f"Handle {handle.display} removed",
                 changes={"handle": [f"{handle.platform}:{handle.handle}", None]})


def set_tags(contact: Contact, names) -> None:
    wanted = []
    for name in names or []:
        name = name.strip().lower()[:64]
        if name and name not in wanted:
            wanted.append(name)
    existing = {t.name: t for t in db.session.scalars(
        select(Tag).where(Tag.name.in_(wanted)))} if wanted else {}
    tags = []
    for name in wanted:
        tag = existing.get(name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
        tags.append(tag)
    contact.tags = tags


def parse_tags(text: str | None) -> list[str]:
    return [t for t in (p.strip() for p in (text or "").replace(";", ",").split(",")) if t]


def create_contact(actor, data: dict, *, handles=(), tags=(), owner_id=None,
                   also_known_as=()) -> Contact:
    """Create a contact with its handles and tags; reps own what they create.
    `also_known_as`: (platform, platform-scoped id) pairs, each attached as a handle that is
    that id (a sender a channel told us of: the profile API may name them later). Refused
    (ErasedPerson) when the email, phone or a handle belongs to a person erased at their
    request."""
    contact = _new_contact(actor, data, handles=handles, tags=tags, owner_id=owner_id,
                           also_known_as=also_known_as)
    db.session.flush()
    _created(actor, contact)
    return contact


def create_contacts(actor, entries) -> list:
    """Several contacts as `create_contact` makes each (the same checks, audit event and
    webhook), written in one flush. `entries`: (data, also_known_as) pairs. In the list
    returned, an entry refused for a person erased at their request is its ErasedPerson
    (nothing of it is added); the others are their new contacts."""
    made = []
    for data, also_known_as in entries:
        try:
            made.append(_new_contact(actor, data, also_known_as=also_known_as))
        except suppression.ErasedPerson as refused:
            made.append(refused)
    db.session.flush()
    for contact in made:
        if isinstance(contact, Contact):
            _created(actor, contact)
    return made


def _new_contact(actor, data: dict, *, handles=(), tags=(), owner_id=None,
                 also_known_as=()) -> Contact:
    """A checked new contact, added to the session (not yet flushed)."""
    values = _clean(data)
    if not values.get("name"):
        raise ValidationFailed("Name is required.", field="name")
    for key in ("email", "phone"):
        suppression.refuse_if_suppressed([(key, values.get(key), "")], field=key)
    suppression.refuse_if_suppressed(
        [pair for platform, person_id in also_known_as
         for pair in suppression.contact_identifiers(handles=[(platform, person_id)])])
    if owner_id is not None and not policy.can_reassign(actor) and owner_id != actor.id:
        raise ValidationFailed("Reps can only create contacts they own.", field="owner_id")
    contact = Contact(**values)
    contact.owner_id = owner_id if owner_id is not None or actor is None else (
        actor.id if actor.role == "rep" else None)
    if not contact.first_name and contact.name:
        contact.first_name = contact.name.split()[0]
    db.session.add(contact)
    for i, h in enumerate(handles):
        add_handle(actor, contact, h["platform"], h["handle"], followers=h.get("followers"),
                   engagement_rate=h.get("engagement_rate"), field=f"handles-{i}-handle",
                   audited=False)
    for platform, person_id in also_known_as:
        contact.handles.append(SocialHandle(platform=platform, handle=person_id,
                                            account_id=person_id))
    set_tags(contact, tags)
    refresh_search_text(contact)
    return contact


def _created(actor, contact: Contact) -> None:
    # The contact is flushed: its id is given, so that the events of many are written together.
    audit.record(actor, "create", contact, entity_id=contact.id,
                 summary=f"{contact.kind_label} {contact.name} created")
    outbox.contact_created(contact)


def update_contact(actor, contact: Contact, data: dict, *, expected_version: int | None = None,
                   tags=None) -> dict:
    """Apply edited fields; refuses when someone else saved the contact in between."""
    if not policy.can_edit_contact(actor, contact):
        raise ValidationFailed("You cannot edit this contact.")
    if expected_version is not None and expected_version != contact.version:
        raise Conflict(_changed_meanwhile(contact))
    values = _clean(data)
    with conflict_if_changed_meanwhile(_changed_meanwhile(contact)):
        for key, value in values.items():
            setattr(contact, key, value)
        if tags is not None:
            before = [t.name for t in contact.tags]
            set_tags(contact, tags)
            after = [t.name for t in contact.tags]
        refresh_search_text(contact)
        changes = audit.changes_of(contact)
        if tags is not None and before != after:
            changes["tags"] = [before, after]
        if changes:
            contact.updated_at = utcnow()
            audit.record(actor, "update", contact, summary=f"{contact.name} edited",
                         changes=changes)
    return changes


def _changed_meanwhile(contact: Contact) -> str:
    return (f"{contact.name} was changed by someone else since you opened it. "
            "Your edit was not saved; the current version is shown.")


def set_owner(actor, contact: Contact, owner_id: int | None) -> None:
    """Managers reassign; a rep may only claim an unassigned contact for themselves."""
    if policy.can_reassign(actor):
        pass
    elif owner_id == actor.id and policy.can_claim(actor, contact):
        pass
    else:
        raise ValidationFailed("Only managers can reassign contacts.", field="owner_id")
    if owner_id is not None:
        owner = db.session.get(User, owner_id)
        if owner is None or not owner.active:
            raise ValidationFailed("Choose an active user as owner.", field="owner_id")
    if contact.owner_id != owner_id:
        audit.record(actor, "update", contact, summary=f"Owner of {contact.name} changed",
                     changes={"owner_id": [contact.owner_id, owner_id]})
        owner_copies.follow({contact.id: owner_id})   # before the contact's row (see there)
        before, contact.owner_id = contact.owner_id, owner_id
        db.session.flush()
        dm_counts.owners_changed({contact.id: (before, owner_id)})


def archive(actor, contact: Contact) -> None:
    """Archive a contact; their open outreach tasks are cancelled, as when they opt out."""
    if contact.archived_at is None:
        contact.archived_at = utcnow()
        audit.record(actor, "archive", contact, summary=f"{contact.name} archived")
        cancel_outreach_tasks(actor, contact)


def restore(actor, contact: Contact) -> None:
    if contact.archived_at is not None:
        contact.archived_at = None
        audit.record(actor, "restore", contact, summary=f"{contact.name} restored")


def add_note(actor, contact: Contact, body: str) -> Note:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed("Write something in the note.", field="body")
    note = Note(contact_id=contact.id, author_id=actor.id, body=body)
    db.session.add(note)
    # The note itself is on the contact's timeline, with its text.
    audit.record(actor, "create", note, summary=f"Note on {contact.name}", on_timeline=False)
    return note
