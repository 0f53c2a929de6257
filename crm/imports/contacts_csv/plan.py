"""Deciding, row by row, what a contacts CSV will do: create, update, unchanged or fail.

Rows are read in chunks; each chunk's handles, emails and ids are looked up in a few
queries. A row is matched to a contact by handle, then email, then Rapport ID (what the
export writes), among the contacts the importing user may see.

Consent: an empty consent cell says nothing and never changes consent; an opt-out in the
file is applied; a file can never silently opt back in someone who opted out (or lift
do-not-contact) — that row fails with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from crm import policy
from crm.accounts.models import User
from crm.contacts.models import Contact, SocialHandle
from crm.extensions import db
from crm.imports.contacts_csv.rows import SCALARS, RowInput
from crm.privacy import models as suppression

CHUNK = 500


@dataclass
class Decision:
    row: RowInput
    action: str                                   # create | update | unchanged | fail
    contact: Contact | None = None
    changes: dict = field(default_factory=dict)   # column → new value
    new_handles: list = field(default_factory=list)
    tags: list | None = None                      # replace the contact's tags with these
    owner_id: int | None = None
    owner_changed: bool = False
    consent: str | None = None                    # status to set through change_consent
    dnc: bool | None = None
    note: str = ""
    column: str = ""
    reason: str = ""
    new_id: int | None = None                     # set when a created row is written


@dataclass
class Lookups:
    handles: dict = field(default_factory=dict)   # (platform, handle) → contact id
    emails: dict = field(default_factory=dict)    # email → [visible contact ids]
    ids: set = field(default_factory=set)         # visible contact ids named by Rapport ID
    contacts: dict = field(default_factory=dict)  # id → Contact
    erased: set = field(default_factory=set)      # hashes of erased people's identifiers


def row_keys(row: RowInput) -> set:
    keys = {("h", p, h) for p, h, _ in row.handles}
    if row.values.get("email"):
        keys.add(("e", row.values["email"]))
    return keys


def erased_pairs(row: RowInput) -> list[tuple]:
    """The row's identifiers as the suppression list hashes them (crm.privacy)."""
    return suppression.contact_identifiers(row.values.get("email"), row.values.get("phone"),
                                           [(p, h) for p, h, _ in row.handles])


def lookups(actor, rows: list[RowInput]) -> Lookups:
    found = Lookups()
    if suppression.any_suppressed():
        found.erased = suppression.suppressed(
            suppression.digests([pair for r in rows for pair in erased_pairs(r)]))
    handles = sorted({h for r in rows for _, h, _ in r.handles})
    for start in range(0, len(handles), CHUNK):
        for platform, handle, contact_id in db.session.execute(
                select(SocialHandle.platform, SocialHandle.handle, SocialHandle.contact_id)
                .where(SocialHandle.handle.in_(handles[start:start + CHUNK]))):
            found.handles[(platform, handle)] = contact_id
    emails = sorted({r.values["email"] for r in rows if r.values.get("email")})
    for start in range(0, len(emails), CHUNK):
        for contact_id, email in db.session.execute(
                select(Contact.id, Contact.email)
                .where(Contact.email.in_(emails[start:start + CHUNK]),
                       policy.contact_scope(actor)).order_by(Contact.id)):
            found.emails.setdefault(email, []).append(contact_id)
    ids = sorted({r.rapport_id for r in rows if r.rapport_id})
    for start in range(0, len(ids), CHUNK):
        found.ids.update(db.session.scalars(
            select(Contact.id).where(Contact.id.in_(ids[start:start + CHUNK]),
                                     policy.contact_scope(actor))))
    wanted = sorted(set(found.handles.values()) | found.ids
                    | {i for group in found.emails.values() for i in group})
    for start in range(0, len(wanted), CHUNK):
        for c in db.session.scalars(select(Contact).where(Contact.id.in_(wanted[start:start + CHUNK]))):
            found.contacts[c.id] = c
    return found


class Planner:
    """Decides each row; in a dry run it also remembers what earlier rows of the file did."""

    def __init__(self, actor, default_owner_id: int | None, *, dry_run: bool):
        self.actor = actor
        self.may_reassign = policy.can_reassign(actor)   # asked once, not per row
        self.default_owner_id = default_owner_id
        self.dry_run = dry_run
        self.file_keys: dict = {}     # dry run: handle/email key → first row's state
        self.file_state: dict = {}    # dry run: contact id → consent the file has set
        self._users: dict[str, User | None] = {}

    def decide(self, row: RowInput, found: Lookups) -> Decision:
        if row.errors:
            column, reason = row.errors[0]
            return Decision(row, "fail", column=column, reason=reason)
        owners = []
        for platform, handle, header in row.handles:
            cid = found.handles.get((platform, handle))
            if cid is not None and cid not in [o for o, _ in owners]:
                owners.append((cid, header))
        if len(owners) > 1:
            return self._fail(row, owners[1][1], "this handle belongs to a different contact "
                                                 "than the other handles in the row")
        contact = None
        if owners:
            contact = found.contacts.get(owners[0][0])
            if not policy.can_view_contact(self.actor, contact):
                return self._fail(row, owners[0][1], "this handle belongs to a contact you "
                                                     "cannot see")
        elif row.values.get("email") and found.emails.get(row.values["email"]):
            same = found.emails[row.values["email"]]
            if len(same) > 1:
                return self._fail(row, row.columns.get("email", "Email"),
                                  f"{len(same)} contacts have this email; add a handle column "
                                  "to tell them apart")
            contact = found.contacts.get(same[0])
        elif row.rapport_id and row.rapport_id in found.ids:
            contact = found.contacts.get(row.rapport_id)
        if contact is None and found.erased and \
                suppression.digests(erased_pairs(row)) & found.erased:
            # A person erased at their request: skipped, and nothing of the row is kept.
            return Decision(row, "erased")
        if contact is None and self.dry_run:
            earlier = next((self.file_keys[k] for k in row_keys(row) if k in self.file_keys), None)
            if earlier is not None:
                return self._same_as_earlier(row, earlier)
        decision = self._create(row) if contact is None else self._update(row, contact)
        if self.dry_run and decision.action != "fail":
            self._remember(row, decision)
        return decision

    # -- create -----------------------------------------------------------------------
    def create(self, row: RowInput) -> Decision:
        """A row that matches no contact (the check found none, and nothing has changed)."""
        if row.errors:
            column, reason = row.errors[0]
            return Decision(row, "fail", column=column, reason=reason)
        return self._create(row)

    def _create(self, row: RowInput) -> Decision:
        if not row.name:
            return self._fail(row, row.columns.get("name", "Name"), "the name is empty")
        owner_id = self.default_owner_id
        if row.owner_email:
            owner, problem = self._owner(row.owner_email)
            if problem:
                return self._fail(row, row.columns.get("owner_email", "Owner"), problem)
            owner_id = owner.id
        if not self.may_reassign and owner_id != self.actor.id:
            owner_id = self.actor.id
        return Decision(row, "create", owner_id=owner_id, new_handles=[(p, h) for p, h, _ in
                                                                         row.handles],
                        tags=row.tags, consent=row.consent, dnc=row.dnc or None)

    # -- update -----------------------------------------------------------------------
    def _update(self, row: RowInput, contact: Contact) -> Decision:
        status, dnc = self._consent_now(contact)
        when = f" on {contact.consent_changed_at:%d %b %Y}" if contact.consent_changed_at else ""
        if row.consent == "opted_in" and status == "opted_out":
            return self._fail(row, row.columns.get("consent", "Consent"),
                              f"{contact.name} opted out{when}; a file cannot opt them back in. "
                              "Change it on their contact page, saying where the new consent "
                              "comes from")
        if row.dnc is False and dnc:
            return self._fail(row, row.columns.get("do_not_contact", "Do not contact"),
                              f"{contact.name} is marked do-not-contact{when}; a file cannot lift "
                              "that. Change it on their contact page")
        d = Decision(row, "update", contact)
        for key, value in row.values.items():
            if key in SCALARS and getattr(contact, key) != value:
                d.changes[key] = value
        have = {(h.platform, h.handle) for h in contact.handles}
        d.new_handles = [(p, h) for p, h, _ in row.handles if (p, h) not in have]
        if row.tags is not None and row.tags != sorted(t.name for t in contact.tags):
            d.tags = row.tags
        if row.owner_email:
            owner, problem = self._owner(row.owner_email)
            if problem:
                return self._fail(row, row.columns.get("owner_email", "Owner"), problem)
            if owner.id != contact.owner_id:
                if not self.may_reassign:
                    return self._fail(row, row.columns.get("owner_email", "Owner"),
                                      "only managers can reassign contacts")
                d.owner_id, d.owner_changed = owner.id, True
        if row.consent and row.consent != status:
            d.consent = row.consent
        if row.dnc is not None and row.dnc != dnc:
            d.dnc = row.dnc
        if not (d.changes or d.new_handles or d.tags is not None or d.owner_changed
                or d.consent or d.dnc is not None):
            d.action = "unchanged"
        return d

    def _consent_now(self, contact: Contact) -> tuple[str, bool]:
        state = self.file_state.get(contact.id)
        if state:
            return state
        return contact.consent_status, contact.do_not_contact

    def _owner(self, email: str):
        if email not in self._users:
            self._users[email] = db.session.scalars(
                select(User).where(User.email == email, User.active.is_(True))).first()
        owner = self._users[email]
        if owner is None:
            return None, f"no active user has the email {email}"
        if not self.may_reassign and owner.id != self.actor.id:
            return None, "reps can only import contacts they own"
        return owner, ""

    # -- what a dry run remembers about earlier rows -----------------------------------
    def _remember(self, row: RowInput, d: Decision) -> None:
        status, dnc = (d.contact.consent_status, d.contact.do_not_contact) if d.contact else \
            ("unknown", False)
        state = (d.consent or status, dnc if d.dnc is None else d.dnc)
        entry = {"row": row.number, "state": state, "name": row.name or
                 (d.contact.name if d.contact else "")}
        if d.contact is not None:
            self.file_state[d.contact.id] = state
        for key in row_keys(row):
            self.file_keys.setdefault(key, entry)

    def _same_as_earlier(self, row: RowInput, earlier: dict) -> Decision:
        status, dnc = earlier["state"]
        if row.consent == "opted_in" and status == "opted_out":
            return self._fail(row, row.columns.get("consent", "Consent"),
                              f"row {earlier['row']} opts this person out; a later row cannot "
                              "opt them back in")
        if row.dnc is False and dnc:
            return self._fail(row, row.columns.get("do_not_contact", "Do not contact"),
                              f"row {earlier['row']} marks this person do-not-contact")
        if row.consent or row.dnc is not None:
            earlier["state"] = (row.consent or status, dnc if row.dnc is None else row.dnc)
        return Decision(row, "update", note=f"same person as row {earlier['row']}")

    def _fail(self, row: RowInput, column: str, reason: str) -> Decision:
        return Decision(row, "fail", column=column, reason=reason)
