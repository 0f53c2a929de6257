"""Which contact a DM thread belongs to.

In this order: the conversation an earlier import made for the same thread; a handle,
profile URL or account id the contact already has (SocialHandle); the exact name (shown
as "matched by name — check"); else a new contact. Everything is looked up in bulk, a
few queries per 500 threads.

Only contacts the importing user may see are matched. A thread whose handle or earlier
conversation belongs to a contact they may not see is skipped ("hidden"): attaching it
would write into someone else's record, and creating a second contact is impossible
because a handle belongs to one contact only. The name of that contact is never shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from crm import policy
from crm.contacts.handles import HandleError, normalize_handle
from crm.contacts.models import PLATFORM_LABELS, Contact, SocialHandle
from crm.conversations.models import Conversation
from crm.extensions import db
from crm.imports.dm_exports.parsers.base import Participant, normalise_identity
from crm.privacy import models as suppression

CHUNK = 500
# How a thread found its contact, strongest first; the words the preview shows.
HOW_LABELS = {
    "thread": "already imported",
    "handle": "matched by handle",
    "profile_url": "matched by profile URL",
    "account_id": "matched by account id",
    "picked": "chosen by you",
    "name": "matched by name — check",
    "new": "new contact",
    "hidden": "belongs to a contact you cannot see",
    "erased": "erased person",
    "nobody": "only you in this thread",
}
STRONG = ("thread", "handle", "profile_url", "account_id")


@dataclass
class ThreadMatch:
    key: str
    how: str
    participant: Participant | None = None
    contact: Contact | None = None
    same_name: int = 0                      # how many visible contacts share the name
    identities: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        return HOW_LABELS[self.how]

    @property
    def is_new(self) -> bool:
        return self.how == "new"

    @property
    def blocked(self) -> bool:
        return self.how in ("hidden", "nobody", "erased")


def people_of(summary: dict) -> list[Participant]:
    return [Participant(*p) for p in summary["people"]]


def me_keys(me: str | None, aliases: list[str]) -> set[str]:
    """Every identity that means the export's owner (as ExportSource._me_keys does)."""
    keys = {normalise_identity(me)} if me else set()
    alias_keys = {normalise_identity(a) for a in aliases if a}
    return keys | alias_keys if keys & alias_keys else keys


def counterparts(summary: dict, mine: set[str]) -> list[Participant]:
    return [p for p in people_of(summary) if not (p.identities() & mine)]


def identities(platform: str, p: Participant) -> dict:
    """The participant's handle / profile URL / account id in the form SocialHandle keeps."""
    out = {}
    raw_handle = p.handle
    if platform == "whatsapp" and not raw_handle and _looks_like_phone(p.name):
        raw_handle = p.name
    if platform == "linkedin" and not raw_handle and p.profile_url:
        raw_handle = p.profile_url
    if raw_handle:
        try:
            out["handle"] = normalize_handle(platform, raw_handle)
        except HandleError:
            pass
    if p.profile_url:
        out["profile_url"] = p.profile_url.strip().rstrip("/")
    if p.account_id:
        out["account_id"] = str(p.account_id)
    return out


def person_key(participant: Participant, ident: dict) -> str:
    """One key per person across the threads of an export (for new contacts)."""
    for kind in ("handle", "profile_url", "account_id"):
        if ident.get(kind):
            return f"{kind}:{ident[kind]}"
    return "name:" + (participant.name or "").strip().lower()


def _looks_like_phone(name: str) -> bool:
    digits = sum(ch.isdigit() for ch in name)
    return digits >= 7 and all(ch.isdigit() or ch in "+-() .\u202a\u202c\u00a0" for ch in name)


def erased_threads(platform: str, summaries: list[dict]) -> set[str]:
    """Keys of the threads of a person erased at their request (crm.privacy): the thread id
    itself, or, in a one-to-one chat, anyone's handle, platform id or profile link. One query
    per 500 identifiers."""
    if not summaries or not suppression.any_suppressed():
        return set()
    per_thread = {}
    for s in summaries:
        pairs = [("thread", s["key"], platform)]
        for person in ([] if s["group"] else people_of(s)):
            ident = identities(platform, person)
            pairs += [("handle", ident.get("handle"), platform),
                      ("account", ident.get("account_id"), platform),
                      ("url", ident.get("profile_url"), platform)]
            if platform == "whatsapp":
                pairs.append(("phone", ident.get("handle"), ""))
        per_thread[s["key"]] = suppression.digests(pairs)
    found = suppression.suppressed(set().union(*per_thread.values())) if per_thread else set()
    return {key for key, hashes in per_thread.items() if hashes & found}


def display_name(platform: str, p: Participant) -> str:
    """The name a new contact gets: the export's name, or "X user 123" for a bare id."""
    name = (p.name or "").strip()
    if p.account_id and name == str(p.account_id) and not p.handle:
        return f"{PLATFORM_LABELS.get(platform, platform)} user {name}"
    return name[:200] or "Unknown"


def match_threads(user, platform: str, summaries: list[dict], mine: set[str]
                  ) -> dict[str, ThreadMatch]:
    """A ThreadMatch for every summary, in a few bulk queries."""
    people = {s["key"]: counterparts(s, mine) for s in summaries}
    ids = {s["key"]: [identities(platform, p) for p in people[s["key"]]] for s in summaries}
    by_thread = _earlier_conversations(platform, [s["key"] for s in summaries])
    by_identity = _handle_owners(platform, [i for rows in ids.values() for i in rows])
    names = {p.name.strip().lower() for plist in people.values() for p in plist
             if p.name and not (p.account_id and p.name == str(p.account_id))}
    by_name = _named(user, names)
    wanted = set(by_thread.values()) | {c for c in by_identity.values()}
    contacts = _contacts(wanted | {c for group in by_name.values() for c in group[:1]})

    out: dict[str, ThreadMatch] = {}
    for s in summaries:
        key, plist = s["key"], people[s["key"]]
        if not plist:
            out[key] = ThreadMatch(key, "nobody")
            continue
        out[key] = _best(user, key, plist, ids[key], by_thread.get(key), by_identity, by_name,
                         contacts)
    return out


def _best(user, key, plist, idlist, thread_contact, by_identity, by_name, contacts):
    first = ThreadMatch(key, "new", plist[0], identities=idlist[0])
    if thread_contact is not None:
        contact = contacts.get(thread_contact)
        how = "thread" if policy.can_view_contact(user, contact) else "hidden"
        return ThreadMatch(key, how, plist[0], contact if how == "thread" else None,
                           identities=idlist[0])
    for p, ident in zip(plist, idlist):
        for how in ("handle", "profile_url", "account_id"):
            cid = by_identity.get((how, ident.get(how)))
            if cid is None:
                continue
            contact = contacts.get(cid)
            if policy.can_view_contact(user, contact):
                return ThreadMatch(key, how, p, contact, identities=ident)
            return ThreadMatch(key, "hidden", p, identities=ident)
    for p, ident in zip(plist, idlist):
        group = by_name.get(p.name.strip().lower()) if p.name else None
        if group:
            return ThreadMatch(key, "name", p, contacts.get(group[0]), same_name=len(group),
                               identities=ident)
    return first


def _earlier_conversations(platform: str, keys: list[str]) -> dict[str, int]:
    """Thread key → contact id of the conversation an earlier import made for it."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), CHUNK):
        rows = db.session.execute(
            select(Conversation.external_thread_id, Conversation.contact_id)
            .where(Conversation.platform == platform,
                   Conversation.external_thread_id.in_(keys[start:start + CHUNK]))
            .order_by(Conversation.id))
        for key, contact_id in rows:
            found.setdefault(key, contact_id)
    return found


def _handle_owners(platform: str, idlist: list[dict]) -> dict[tuple[str, str], int]:
    """(kind, value) → contact id, for handles, profile URLs and account ids."""
    handles = sorted({i["handle"] for i in idlist if "handle" in i})
    urls = sorted({u for i in idlist if "profile_url" in i
                   for u in (i["profile_url"], i["profile_url"] + "/")})
    accounts = sorted({i["account_id"] for i in idlist if "account_id" in i})
    found: dict[tuple[str, str], int] = {}
    for column, values, kind in ((SocialHandle.handle, handles, "handle"),
                                 (SocialHandle.profile_url, urls, "profile_url"),
                                 (SocialHandle.account_id, accounts, "account_id")):
        for start in range(0, len(values), CHUNK):
            rows = db.session.execute(
                select(column, SocialHandle.contact_id)
                .where(SocialHandle.platform == platform, column.in_(values[start:start + CHUNK]))
                .order_by(SocialHandle.id))
            for value, contact_id in rows:
                if kind == "profile_url":
                    value = value.rstrip("/")
                found.setdefault((kind, value), contact_id)
    return found


def _named(user, names: set[str]) -> dict[str, list[int]]:
    """Lower-cased name → ids of visible contacts with exactly that name (active first)."""
    found: dict[str, list[int]] = {}
    values = sorted(names)
    for start in range(0, len(values), CHUNK):
        rows = db.session.execute(
            select(Contact.sort_name, Contact.id)
            .where(Contact.sort_name.in_(values[start:start + CHUNK]), policy.contact_scope(user))
            .order_by(Contact.sort_name, Contact.archived_at.is_not(None), Contact.id))
        for name, contact_id in rows:
            found.setdefault(name, []).append(contact_id)
    return found


def _contacts(ids: set[int]) -> dict[int, Contact]:
    ids = sorted(i for i in ids if i is not None)
    out: dict[int, Contact] = {}
    for start in range(0, len(ids), CHUNK):
        for c in db.session.scalars(select(Contact).where(Contact.id.in_(ids[start:start + CHUNK]))):
            out[c.id] = c
    return out


def find_by_exact_name(user, name: str) -> list[Contact]:
    """Visible contacts called exactly `name` (the no-JavaScript way to pick a contact)."""
    name = (name or "").strip().lower()
    if not name:
        return []
    return list(db.session.scalars(
        select(Contact).where(Contact.sort_name == name, policy.contact_scope(user),
                              Contact.archived_at.is_(None)).order_by(Contact.id).limit(5)))

