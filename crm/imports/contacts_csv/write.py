"""Writing the decided rows of a contacts CSV in bulk (100,000 rows in seconds).

Contacts, handles, tags and audit events are inserted with executemany; updates are
grouped by the columns they change. The caller's transaction holds it all.

Consent: a change to an existing contact goes through crm.contacts.consent.change_consent,
one contact at a time (history entry, audit, open outreach tasks cancelled). A new contact
is born with the consent its row states; it gets the same history entry and audit event
(from "unknown", source "CSV import <file>"), written in bulk — it has no tasks to cancel,
and one ORM change per row would make a 100,000-row file take minutes.
"""
from __future__ import annotations

from sqlalchemy import bindparam, delete, insert, select, update

from crm.audit.models import AuditEvent
from crm.contacts import consent as consent_service, dm_counts, owner_copies
from crm.contacts.handles import profile_url
from crm.contacts.models import (ConsentEvent, Contact, SocialHandle, Tag, contact_tags,
                                 phone_tail)
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports import bulk
from crm.imports.contacts_csv.plan import Decision
from crm.webhooks import outbox

def search_text(name, email, company, handles) -> str:
    """The same words refresh_search_text keeps, for a contact not loaded as an object
    (tests/test_imports_csv.py holds the two to the same result)."""
    return " ".join(p.strip().lower() for p in (name, email, company, *handles) if p)


HANDLE_KEYS = ["contact_id", "platform", "handle", "profile_url", "created_at"]


def write(actor, decisions: list[Decision], source: str, search) -> None:
    """Apply the create and update decisions of one chunk."""
    now = utcnow()
    creates = [d for d in decisions if d.action == "create"]
    updates = [d for d in decisions if d.action == "update" and d.contact is not None]
    if creates:
        _create(creates, now)
        search.added(creates[0].new_id, creates[-1].new_id)
    at = bulk.bound(SocialHandle.__table__, "created_at", now)
    bulk.insert_tuples(SocialHandle.__table__, HANDLE_KEYS,
                       [(_id(d), p, h, profile_url(p, h), at)
                        for d in creates + updates for p, h in d.new_handles])
    _tags(creates + updates)
    _audit(actor, creates + updates, source, now)  # before the updates: it reads old values
    _initial_consent(actor, creates, source, now)
    with outbox.history():   # history, not news: no webhook events (crm.webhooks.outbox)
        _consent(actor, updates, source)
    if updates:
        _update(updates, now)


CONTACT_KEYS = ["kind", "name", "sort_name", "first_name", "email", "phone", "phone_tail",
                "company", "location", "notes", "owner_id", "niche", "rate_per_post_minor",
                "currency", "lead_source", "estimated_value_minor", "consent_status", "do_not_contact",
                "consent_changed_at", "search_text", "version", "created_at", "updated_at"]


def _create(creates: list[Decision], now) -> None:
    table = Contact.__table__
    at = bulk.bound(table, "created_at", now)
    flag = {b: bulk.bound(table, "do_not_contact", b) for b in (False, True)}
    rows = []
    for d in creates:
        v = d.row.values
        name, email, company = v["name"], v.get("email"), v.get("company")
        changed = d.consent or d.dnc
        rows.append((
            v.get("kind", "contact"), name, name.strip().lower(),
            v.get("first_name") or (name.split()[0] if name.split() else None),
            email, v.get("phone"), phone_tail(v.get("phone")), company, v.get("location"), v.get("notes"), d.owner_id,
            v.get("niche"), v.get("rate_per_post_minor"), v.get("currency", "USD"),
            v.get("lead_source"), v.get("estimated_value_minor"), d.consent or "unknown",
            flag[bool(d.dnc)], at if changed else None,
            search_text(name, email, company, [h for _, h in d.new_handles]), 1, at, at))
    for d, new_id in zip(creates, bulk.insert_returning_ids(table, rows, CONTACT_KEYS)):
        d.new_id = new_id


def _tags(decisions: list[Decision]) -> None:
    wanted = [d for d in decisions if d.tags is not None]
    if not wanted:
        return
    names = sorted({t for d in wanted for t in d.tags})
    known = dict(db.session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(names))).all()) \
        if names else {}
    missing = [{"name": n} for n in names if n not in known]
    if missing:
        db.session.execute(insert(Tag.__table__), missing)
        known.update(db.session.execute(
            select(Tag.name, Tag.id).where(Tag.name.in_([m["name"] for m in missing]))).all())
    replaced = [d.contact.id for d in wanted if d.contact is not None]
    if replaced:
        db.session.execute(delete(contact_tags).where(contact_tags.c.contact_id.in_(replaced)))
    bulk.insert_tuples(contact_tags, ["contact_id", "tag_id"],
                       [(_id(d), known[t]) for d in wanted for t in d.tags])


def _initial_consent(actor, creates: list[Decision], source: str, now) -> None:
    """The history entry and audit event of the consent a new contact was created with."""
    events, audits = [], []
    for d in creates:
        if not (d.consent or d.dnc):
            continue
        status, dnc = d.consent or "unknown", bool(d.dnc)
        events.append({"contact_id": d.new_id, "actor_id": getattr(actor, "id", None), "at": now,
                       "from_status": "unknown", "to_status": status, "from_dnc": False,
                       "to_dnc": dnc, "source": source[:200], "note": None,
                       "evidence_message_id": None})
        audits.append({"at": now, "actor_id": getattr(actor, "id", None), "action": "consent",
                       "entity_type": "contact", "entity_id": d.new_id, "contact_id": d.new_id,
                       "summary": f"Consent: {consent_service.describe('unknown', False)} → "
                                  f"{consent_service.describe(status, dnc)}"[:255],
                       "changes": {"consent_status": ["unknown", status],
                                   "do_not_contact": [False, dnc], "source": source[:200]}})
    if events:
        bulk.insert_rows(ConsentEvent.__table__, events)
        bulk.insert_rows(AuditEvent.__table__, audits)


def _consent(actor, decisions: list[Decision], source: str) -> None:
    wanted = [d for d in decisions if d.consent or d.dnc is not None]
    if not wanted:
        return
    with db.session.no_autoflush:  # change_consent flushes what it needs itself
        for d in wanted:
            consent_service.change_consent(actor, d.contact, status=d.consent,
                                           do_not_contact=d.dnc, source=source[:200])
    db.session.flush()


def _update(updates: list[Decision], now) -> None:
    table = Contact.__table__
    groups: dict[tuple, list[dict]] = {}
    for d in updates:
        c = d.contact
        values = dict(d.changes)
        if d.owner_changed:
            values["owner_id"] = d.owner_id
        if "name" in values:
            values["sort_name"] = values["name"].strip().lower()
        if "phone" in values:
            values["phone_tail"] = phone_tail(values["phone"])
        if values or d.new_handles:
            merged = {k: values.get(k, getattr(c, k)) for k in ("name", "email", "company")}
            values["search_text"] = search_text(
                merged["name"], merged["email"], merged["company"],
                [h.handle for h in c.handles] + [h for _, h in d.new_handles])
        values["updated_at"] = now
        groups.setdefault(tuple(sorted(values)), []).append(
            {"b_id": c.id, **{f"b_{k}": v for k, v in values.items()}})
    # Each reassigned contact's (old owner, new owner), read before the rows change.
    owners = {d.contact.id: (d.contact.owner_id, d.owner_id) for d in updates if d.owner_changed}
    # Their deals' and conversations' copies first, before the contacts' rows (see there).
    owner_copies.follow({contact_id: new for contact_id, (_, new) in owners.items()})
    for keys, params in groups.items():
        # Bound names must differ from column names in an UPDATE's SET clause.
        stmt = (update(table).where(table.c.id == bindparam("b_id"))
                .values({**{k: bindparam(f"b_{k}") for k in keys},
                         "version": table.c.version + 1}))
        db.session.execute(stmt, params)
    for d in updates:
        db.session.expire(d.contact)
    dm_counts.owners_changed(owners)


AUDIT_KEYS = ["at", "actor_id", "action", "entity_type", "entity_id", "contact_id", "summary",
              "changes"]


def _audit(actor, decisions: list[Decision], source: str, now) -> None:
    table = AuditEvent.__table__
    at, actor_id = bulk.bound(table, "at", now), getattr(actor, "id", None)
    created = (f"Created by {source}"[:255], bulk.bound(table, "changes", {}))
    rows = []
    for d in decisions:
        if d.action == "create":
            summary, changes = created
        else:
            changes = {k: [_plain(getattr(d.contact, k, None)), _plain(v)]
                       for k, v in d.changes.items()}
            for p, h in d.new_handles:
                changes.setdefault("handles", []).append(f"{p}:{h}")
            if d.tags is not None:
                changes["tags"] = d.tags
            if d.owner_changed:
                changes["owner_id"] = [d.contact.owner_id, d.owner_id]
            fields = ", ".join(k.replace("_minor", "").replace("_", " ") for k in changes)
            summary = (f"Updated by {source}" + (f": {fields}" if fields else ""))[:255]
            changes = bulk.bound(table, "changes", changes)
        rows.append((at, actor_id, "import", "contact", _id(d), _id(d), summary, changes))
    bulk.insert_tuples(table, AUDIT_KEYS, rows)


def _id(d: Decision) -> int:
    return d.contact.id if d.contact is not None else d.new_id


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
