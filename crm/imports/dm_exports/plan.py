"""From an opened export to what the preview shows and what the import will do.

The preview keeps a JSON summary of each thread on the run (so the page never re-reads
a big export); the import re-opens the file and turns the same summaries, the user's
choices and fresh contact matches into a plan.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crm import policy
from crm.contacts.models import Contact
from crm.core.timeutil import to_utc_naive
from crm.extensions import db
from crm.imports.dm_exports import matching
from crm.imports.dm_exports.parsers import ExportSource, ParsedThread
from crm.imports.dm_exports.parsers.base import normalise_identity


def summarise_thread(t: ParsedThread) -> dict:
    return {"key": t.key, "title": t.title or t.key, "group": bool(t.is_group),
            "count": t.message_count, "first": _iso(t.first_at), "last": _iso(t.last_at),
            "folder": t.folder, "day_first": t.day_first,
            "people": [[p.name, p.handle, p.profile_url, p.account_id] for p in t.participants]}


def _iso(value: datetime | None) -> str | None:
    return to_utc_naive(value).isoformat() if value else None


def summarise(source: ExportSource) -> dict:
    """What the preview needs, as JSON: threads, who "me" may be, the date-order question.
    The threads of people erased at their request are left out (only their number is
    kept), and so are their names among the candidates for "me"."""
    threads = [summarise_thread(t) for t in source.threads()]
    erased = matching.erased_threads(source.platform, threads)
    threads = [s for s in threads if s["key"] not in erased]
    threads.sort(key=lambda s: s["last"] or "", reverse=True)
    in_threads: dict[str, int] = {}
    for s in threads:
        for name in {p[0] for p in s["people"]}:
            in_threads[name] = in_threads.get(name, 0) + 1
    candidates = [[name, in_threads.get(name, 0)] for name in source.candidates_for_me()[:50]
                  if not erased or name in in_threads]
    detected = source.detected_me
    return {
        "threads": threads,
        "candidates": candidates,
        "detected_me": detected,
        "me_aliases": list(source.me_aliases),
        "me_name": display_me(detected, threads) if detected else None,
        "ambiguous_dates": source.platform == "whatsapp" and any(
            s["day_first"] is None for s in threads),
        "messages": sum(s["count"] for s in threads),
        "erased_skipped": len(erased),
    }


def display_me(me: str, threads: list[dict]) -> str:
    """The friendly name of "me" (X names the owner by account id)."""
    key = normalise_identity(me)
    for s in threads:
        for p in matching.people_of(s):
            if key in p.identities():
                return p.name
    return me


@dataclass
class ThreadPlan:
    summary: dict
    match: matching.ThreadMatch
    action: str                  # "import" | "skip"
    reason: str = ""             # why it is skipped, when it is
    contact: Contact | None = None  # where it goes; None with action import = new contact

    @property
    def key(self) -> str:
        return self.summary["key"]

    @property
    def is_group(self) -> bool:
        return self.summary["group"]

    @property
    def creates_contact(self) -> bool:
        return self.action == "import" and self.contact is None


def chosen_me(options: dict) -> str | None:
    return options.get("me") or options.get("detected_me")


def plan(user, platform: str, options: dict, summaries: list[dict] | None = None
         ) -> list[ThreadPlan]:
    """Each thread with its match, the user's choice applied, in the preview's order."""
    summaries = options["threads"] if summaries is None else summaries
    mine = matching.me_keys(chosen_me(options), options.get("me_aliases") or [])
    matches = matching.match_threads(user, platform, summaries, mine)
    for key in matching.erased_threads(platform, summaries):
        matches[key] = matching.ThreadMatch(key, "erased")
    choices = options.get("choices") or {}
    picked_ids = {c.get("contact_id") for c in choices.values() if c.get("contact_id")}
    picked = {c.id: c for c in db.session.scalars(
        db.select(Contact).where(Contact.id.in_(picked_ids)))} if picked_ids else {}
    out = []
    for s in summaries:
        match = matches[s["key"]]
        choice = choices.get(s["key"], {})
        if match.blocked:
            out.append(ThreadPlan(s, match, "skip", match.label))
            continue
        if choice.get("skip"):
            out.append(ThreadPlan(s, match, "skip", "skipped by you"))
            continue
        contact = match.contact
        if choice.get("contact_id"):
            chosen = picked.get(choice["contact_id"])
            if chosen is None or not policy.can_view_contact(user, chosen):
                out.append(ThreadPlan(s, match, "skip", "the contact you chose is gone"))
                continue
            contact = chosen
            match = matching.ThreadMatch(match.key, "picked", match.participant, chosen,
                                         identities=match.identities)
        out.append(ThreadPlan(s, match, "import", contact=contact))
    _groups_join_known_people(platform, out, mine)
    return out


def _groups_join_known_people(platform: str, plans: list[ThreadPlan], mine: set[str]) -> None:
    """A group whose people are all new goes to someone who also has a one-to-one chat in
    this export, rather than creating a contact for whoever is listed first."""
    solo = {matching.person_key(p.match.participant, p.match.identities)
            for p in plans if not p.is_group and p.action == "import" and p.contact is None}
    for p in plans:
        if not (p.is_group and p.action == "import" and p.match.how == "new"):
            continue
        for person in matching.counterparts(p.summary, mine):
            ident = matching.identities(platform, person)
            if matching.person_key(person, ident) in solo:
                p.match = matching.ThreadMatch(p.key, "new", person, identities=ident)
                break


def totals(plans: list[ThreadPlan]) -> dict:
    """What the confirm button will do, in numbers."""
    doing = [p for p in plans if p.action == "import"]
    return {
        "threads": len(plans),
        "importing": len(doing),
        "skipping": len(plans) - len(doing),
        "messages": sum(p.summary["count"] for p in doing),
        "new_contacts": len({matching.person_key(p.match.participant, p.match.identities)
                             for p in doing if p.creates_contact}),
        "to_existing": sum(1 for p in doing if p.contact is not None),
        "existing_contacts": len({p.contact.id for p in doing if p.contact is not None}),
        "by_name": sum(1 for p in doing if p.match.how == "name"),
        "groups": sum(1 for p in doing if p.is_group),
        "hidden": sum(1 for p in plans if p.match.how == "hidden"),
    }
