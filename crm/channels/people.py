"""Who wrote: a platform-scoped id matched to a contact, or a new contact made for it.

The scoped id (IGSID, PSID, WhatsApp's wa_id) is kept on the contact as a handle's
account_id on that platform. A sender is matched by it first; then, on WhatsApp, by the
phone number; a new sender becomes a contact whose name and username the profile job fills
in later (the username may then match a contact already in Rapport: see `adopt_profile`).
"""
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from crm.channels.models import KIND_LABELS, WHATSAPP, Channel
from crm.contacts import dm_counts, services as contacts
from crm.contacts.models import PHONE_TAIL, Contact, Note, SocialHandle, phone_tail
from crm.conversations.models import Conversation
from crm.extensions import db
from crm.pipeline.models import Deal
from crm.privacy import models as suppression
from crm.tasks.models import Task


def thread_id(channel: Channel, person_id: str) -> str:
    """The conversation's external thread id: this channel's thread with that person."""
    return f"meta:{channel.id}:{person_id}"


def thread_of(external_thread_id: str | None) -> tuple[int, str] | None:
    """(channel id, person id) of a conversation that came through a channel, else None."""
    parts = (external_thread_id or "").split(":", 2)
    if len(parts) != 3 or parts[0] != "meta" or not parts[1].isdigit():
        return None
    return int(parts[1]), parts[2]


def by_scoped_id(platform: str, person_id: str) -> Contact | None:
    return by_scoped_ids(platform, [person_id]).get(person_id)


def by_scoped_ids(platform: str, person_ids) -> dict:
    """{person id: contact} of those scoped ids known on the platform, in one statement
    (looked up for every event: the contacts' handles and tags load only if used)."""
    rows = db.session.execute(
        select(SocialHandle.account_id, Contact)
        .join(Contact, SocialHandle.contact_id == Contact.id)
        .where(SocialHandle.platform == platform,
               SocialHandle.account_id.in_(sorted(set(person_ids))))
        .options(lazyload(Contact.handles), lazyload(Contact.tags))).all()
    return {person_id: contact for person_id, contact in rows}


def _by_phones(wa_ids) -> dict:
    """{wa_id: contact} of those whose WhatsApp handle or phone is that number, however the
    phone was typed: two statements for any number of them. The oldest contact wins where
    several have the number."""
    numbers = {wa_id: suppression.digits(wa_id) for wa_id in wa_ids}
    digits = {wa_id: number for wa_id, number in numbers.items() if len(number) >= 7}
    if not digits:
        return {}
    by_handle = dict(db.session.execute(
        select(SocialHandle.handle, Contact)
        .join(Contact, SocialHandle.contact_id == Contact.id)
        .where(SocialHandle.platform == "whatsapp",
               SocialHandle.handle.in_(sorted({v for d in digits.values()
                                               for v in (d, "+" + d)})))
        .order_by(Contact.id.desc())).all())
    found = {wa_id: by_handle.get(number) or by_handle.get("+" + number)
             for wa_id, number in digits.items()}
    tails = {wa_id: phone_tail(number) for wa_id, number in digits.items()
             if found[wa_id] is None and len(number) >= PHONE_TAIL}
    if tails:
        by_phone = {c.phone_tail: c for c in db.session.scalars(
            select(Contact).where(Contact.phone_tail.in_(sorted(set(tails.values())))
                                  ).order_by(Contact.id.desc()))}
        found.update((wa_id, by_phone.get(tail)) for wa_id, tail in tails.items())
    return {wa_id: contact for wa_id, contact in found.items() if contact is not None}


def sender_contacts(channel: Channel, names: dict) -> tuple[dict, set, set]:
    """`sender_contact` for many people of one channel at once ({person id: name or None}),
    in a few statements however many they are: ({person id: contact}, the person ids new to
    Rapport, the person ids refused as erased at their request). The new contacts are made in
    one flush; should one of them have been made meanwhile by someone else, they are all
    taken in one at a time instead."""
    platform = channel.platform
    found = by_scoped_ids(platform, names)
    if channel.kind == WHATSAPP:
        for person_id, contact in sorted(_by_phones(set(names) - set(found)).items()):
            _keep_scoped_id(contact, platform, person_id)
            found[person_id] = contact
    missing = sorted(set(names) - set(found))
    if not missing:
        return found, set(), set()
    try:
        with db.session.begin_nested():
            made = contacts.create_contacts(None, [
                (_new_contact_data(channel, p, names[p]), [(platform, p)]) for p in missing])
    except IntegrityError:
        return _one_at_a_time(channel, names, found, missing)
    erased = {p for p, c in zip(missing, made) if not isinstance(c, Contact)}
    found.update((p, c) for p, c in zip(missing, made) if isinstance(c, Contact))
    return found, set(missing) - erased, erased


def _one_at_a_time(channel: Channel, names: dict, found: dict,
                   missing: list) -> tuple[dict, set, set]:
    new, erased = set(), set()
    for person_id in missing:
        try:
            found[person_id], made = sender_contact(channel, person_id, names[person_id])
        except suppression.ErasedPerson:
            erased.add(person_id)
            continue
        if made:
            new.add(person_id)
    return found, new, erased


def sender_contact(channel: Channel, person_id: str,
                   name: str | None = None) -> tuple[Contact, bool]:
    """The contact behind a platform-scoped id, created (unowned) when nobody matches;
    and whether they are new to Rapport."""
    platform = channel.platform
    contact = by_scoped_id(platform, person_id)
    if contact is None and channel.kind == WHATSAPP:
        contact = _by_phones([person_id]).get(person_id)
        if contact is not None:
            _keep_scoped_id(contact, platform, person_id)
    if contact is not None:
        return contact, False
    try:
        with db.session.begin_nested():
            return _new_contact(channel, person_id, name), True
    except IntegrityError:
        # Another worker created them a moment ago (the handle is unique).
        found = by_scoped_id(platform, person_id)
        if found is None:
            raise
        return found, False


def _new_contact(channel: Channel, person_id: str, name: str | None) -> Contact:
    return contacts.create_contact(None, _new_contact_data(channel, person_id, name),
                                   also_known_as=[(channel.platform, person_id)])


def _new_contact_data(channel: Channel, person_id: str, name: str | None) -> dict:
    """A new sender's contact: their name, or one we make up until the profile API names
    them (`adopt_profile` recognises it by its ending)."""
    label = KIND_LABELS[channel.kind]
    return {"name": (name or f"{label} user …{person_id[-6:]}")[:200],
            "phone": ("+" + suppression.digits(person_id)) if channel.kind == WHATSAPP else None,
            "lead_source": f"{label} DM"}


def _keep_scoped_id(contact: Contact, platform: str, person_id: str) -> None:
    handle = next((h for h in contact.handles if h.platform == platform and not h.account_id),
                  None)
    if handle is not None:
        handle.account_id = person_id
    elif contacts.find_handle(platform, person_id) is None:
        contact.handles.append(SocialHandle(platform=platform, handle=person_id,
                                            account_id=person_id))
    db.session.flush()


def adopt_profile(channel: Channel, person_id: str, name: str | None,
                  username: str | None) -> Contact | None:
    """What the profile API told us. The username may belong to a contact already in
    Rapport (entered by hand, imported): their conversation moves to that contact, which
    keeps the scoped id, and the contact we made for the sender goes. Otherwise the contact
    we named ourselves gets the real name, and the username becomes their handle."""
    contact = by_scoped_id(channel.platform, person_id)
    if contact is None:
        return None
    handle = next((h for h in contact.handles if h.platform == channel.platform
                   and h.account_id == person_id), None)
    placeholder = contact.name.endswith(f"…{person_id[-6:]}")
    username = (username or "").lower().lstrip("@") or None
    if username and handle is not None and handle.handle == person_id:
        known = contacts.find_handle(channel.platform, username)
        if known is not None and known.contact_id != contact.id:
            return _move_to(contact, handle, known)
        if known is None:
            handle.handle = username
    if name and placeholder:
        contact.name = name[:200]
        contact.first_name = name.split()[0][:100]
    contacts.refresh_search_text(contact)
    db.session.flush()
    return contact


def _move_to(made: Contact, handle: SocialHandle, known: SocialHandle) -> Contact:
    """The sender is `known`'s contact: their conversations go there, with the scoped id."""
    target = known.contact
    if not known.account_id:
        known.account_id = handle.account_id
    moved = db.session.scalars(select(Conversation.id)
                               .where(Conversation.contact_id == made.id)).all()
    db.session.execute(update(Conversation).where(Conversation.contact_id == made.id)
                       .values(contact_id=target.id, contact_owner_id=target.owner_id))
    db.session.flush()
    dm_counts.conversations_moved(moved, made.owner_id, target.owner_id)
    if _only_ours(made):
        db.session.delete(made)
    else:
        made.handles.remove(handle)
    db.session.flush()
    return target


def _only_ours(contact: Contact) -> bool:
    """A contact this module made that nobody has worked on since (no deal, task or note)."""
    return contact.owner_id is None and not any(
        db.session.scalar(select(model.id).where(model.contact_id == contact.id).limit(1))
        for model in (Deal, Task, Note))
