"""Users, contacts with their handles and tags, consent history, and the audit trail of
their creation — the same values the contact services would have written."""
import unicodedata
from datetime import timedelta
from types import SimpleNamespace

from werkzeug.security import generate_password_hash

from bench.dataset import load, words
from bench.dataset.world import Person, World
from crm.contacts.consent import describe
from crm.contacts.handles import normalize_handle, profile_url
from crm.contacts.models import KIND_LABELS, PLATFORM_LABELS, phone_tail
from crm.contacts.services import refresh_search_text

PASSWORD = "bench-password-2026"
USERS = [("admin", "Ada Admin", "UTC"),
         ("manager", "Mia Manager", "Europe/Berlin"), ("manager", "Marek Manager", "UTC"),
         ("rep", "Rae Rep", "UTC"), ("rep", "Rob Rep", "America/New_York"),
         ("rep", "Rina Rep", "Europe/Lisbon"), ("rep", "Raj Rep", "Asia/Kolkata"),
         ("rep", "Rosa Rep", "Europe/Madrid"), ("rep", "Ryo Rep", "Asia/Tokyo"),
         ("rep", "Ruth Rep", "America/Los_Angeles")]
PLATFORMS_BY_KIND = {
    "influencer": (["instagram", "tiktok", "youtube", "x"], [50, 30, 12, 8]),
    "lead": (["linkedin", "instagram", "x", "whatsapp", "email"], [35, 25, 15, 15, 10]),
    "contact": (["instagram", "whatsapp", "facebook", "linkedin", "x"], [35, 25, 15, 15, 10]),
}


def email_of(user_index: int, role: str) -> str:
    """admin@bench.test, manager1@bench.test, rep1@bench.test, …"""
    return f"{role}{user_index or ''}@bench.test" if role != "admin" else "admin@bench.test"


def add_users(conn, world: World) -> None:
    rng, password_hash = world.rng, generate_password_hash(PASSWORD)
    rows, seen = [], {}
    for i, (role, name, tz) in enumerate(USERS, start=1):
        seen[role] = seen.get(role, 0) + 1
        rows.append({"id": i, "email": email_of(seen[role], role), "name": name,
                     "password_hash": password_hash, "role": role, "active": True,
                     "timezone": tz, "session_token": f"bench{rng.getrandbits(96):024x}",
                     "created_at": world.now - timedelta(days=800), "last_login_at": world.now})
        world.users.setdefault(role, []).append(i)
        world.user_names[i] = name
    load.insert(conn, "users", rows)


def _ascii(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in text if c.isalnum())


def _handle(platform: str, first: str, last: str, contact_id: int, email: str | None,
            sep: str) -> str:
    suffix = str(contact_id)
    if platform == "whatsapp":
        raw = f"+44 77{contact_id:08d}"
    elif platform == "email":
        raw = email or f"{_ascii(first)}.{_ascii(last)}{suffix}@example.com"
    elif platform == "x":
        raw = f"{_ascii(first)}_{_ascii(last)}"[:15 - len(suffix)] + suffix
    else:
        raw = f"{_ascii(first)}{sep}{_ascii(last)}"[:24 - len(suffix)] + suffix
    return normalize_handle(platform, raw)


def _pick_owner(world: World):
    roll = world.rng.random()
    if roll < 0.15:
        return None
    if roll < 0.25:
        return world.rng.choice(world.managers)
    return world.rng.choice(world.reps)


def _consent(world: World, p: Person) -> list[tuple]:
    """Decide the contact's consent now (DMs must end before an opt-out); returns the events
    as (at, from_status, to_status, from_dnc, to_dnc, source)."""
    rng, now, events = world.rng, world.now, []
    earliest = p.created_at + timedelta(hours=1)
    if earliest >= now:
        return events
    roll = rng.random()

    def when(mean_days):
        return max(earliest, now - timedelta(days=rng.expovariate(1 / mean_days)))

    if roll < 0.08:
        at = when(60)
        if rng.random() < 0.3 and at - earliest > timedelta(days=2):
            opted_in = earliest + (at - earliest) * rng.random() * 0.5
            events.append((opted_in, "unknown", "opted_in", False, False, "Agreed in DM"))
        p.consent, p.blocked_at = "opted_out", at
        events.append((at, events[-1][2] if events else "unknown", "opted_out", False, False,
                       rng.choice(["Asked by email", "Unsubscribed from newsletter",
                                   "Said so on a call"])))
    elif roll < 0.28:
        events.append((when(120), "unknown", "opted_in", False, False, "Agreed in DM"))
        p.consent = "opted_in"
    elif roll < 0.305:
        at = when(90)
        p.dnc, p.blocked_at = True, at
        events.append((at, "unknown", "unknown", False, True, "Legal request"))
    return events


def add_contacts(conn, world: World, count: int) -> dict:
    """Contacts (mixed kinds, ~1.5 handles each, some opted out), handles and tags.
    Returns the consent events still to be written once DMs exist (keyed by contact id)."""
    rng, now = world.rng, world.now
    surnames, s_weights = zip(*words.weighted_surnames())
    firsts, f_weights = zip(*words.weighted_first_names())
    all_last = rng.choices(surnames, s_weights, k=count)
    all_first = rng.choices(firsts, f_weights, k=count)
    contacts, handles, tags, audits, consent_events = [], [], [], [], {}
    handle_id = 0
    for i in range(count):
        cid = i + 1
        first, last = all_first[i], all_last[i]
        kind = rng.choices(("influencer", "lead", "contact"), (45, 35, 20))[0]
        name = f"{first} {last}"
        created = now - timedelta(days=730 * rng.random() ** 1.6, seconds=rng.randint(0, 86399))
        p = Person(id=cid, kind=kind, name=name, first=first, owner_id=_pick_owner(world),
                   created_at=created, handles=[])
        if rng.random() < 0.02:
            p.archived_at = created + (now - created) * rng.random()
        email = None
        if rng.random() < 0.75:
            email = f"{_ascii(first)}.{_ascii(last)}{cid}@{rng.choice(words.EMAIL_DOMAINS)}"
        platforms, weights = PLATFORMS_BY_KIND[kind]
        n_handles = rng.choices((1, 2, 3), (55, 38, 7))[0]
        chosen = []
        while len(chosen) < n_handles:
            platform = rng.choices(platforms, weights)[0]
            if platform not in chosen:
                chosen.append(platform)
        sep = rng.choice(("", ".", "_"))
        for platform in chosen:
            handle = _handle(platform, first, last, cid, email, sep)
            handle_id += 1
            p.handles.append((platform, handle))
            handles.append({
                "id": handle_id, "contact_id": cid, "platform": platform, "handle": handle,
                "profile_url": profile_url(platform, handle), "account_id": None,
                "followers": rng.randint(2_000, 2_000_000) if kind == "influencer" else None,
                "engagement_rate": round(rng.uniform(0.5, 9.5), 1) if kind == "influencer"
                else None, "created_at": created})
        company = rng.choice(words.COMPANIES) if kind != "influencer" and rng.random() < .7 \
            else None
        row = SimpleNamespace(name=name, email=email, company=company,
                              handles=[SimpleNamespace(handle=h) for _, h in p.handles])
        refresh_search_text(row)
        events = _consent(world, p)
        if events:
            consent_events[cid] = events
        updated = max([created] + [e[0] for e in events])
        phone = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}" \
            if kind == "lead" and rng.random() < .4 else None
        contacts.append({
            "id": cid, "kind": kind, "name": name, "sort_name": name.strip().lower(),
            "phone_tail": phone_tail(phone),
            "first_name": first, "email": email,
            "phone": phone,
            "company": company, "location": rng.choice(words.CITIES) if rng.random() < .8
            else None, "notes": None, "owner_id": p.owner_id,
            "niche": rng.choice(words.NICHES) if kind == "influencer" else None,
            "rate_per_post_minor": rng.choice([250, 500, 800, 1200, 2500, 5000]) * 100
            if kind == "influencer" else None, "currency": "USD",
            "lead_source": rng.choice(words.LEAD_SOURCES) if kind == "lead" else None,
            "estimated_value_minor": rng.choice([2, 5, 8, 12, 20, 40]) * 100000
            if kind == "lead" else None,
            "consent_status": p.consent, "do_not_contact": p.dnc,
            "consent_changed_at": events[-1][0] if events else None,
            "archived_at": p.archived_at, "search_text": row.search_text,
            "version": 1 + len(events), "created_at": created, "updated_at": updated})
        for tag_id in rng.sample(range(1, len(words.TAGS) + 1), rng.choice((0, 0, 1, 1, 2))):
            tags.append({"contact_id": cid, "tag_id": tag_id})
        actor = p.owner_id or world.users["admin"][0]
        audits.append(_audit(created, actor, "create", "contact", cid,
                             f"{KIND_LABELS[kind]} {name} created", {}))
        world.people.append(p)
    load.insert(conn, "tags", ({"id": i, "name": n} for i, n in enumerate(words.TAGS, 1)))
    load.insert(conn, "contacts", contacts)
    load.insert(conn, "social_handles", handles)
    load.insert(conn, "contact_tags", tags)
    load.insert(conn, "audit_events", audits)
    return consent_events


def _audit(at, actor_id, action, entity_type, entity_id, summary, changes) -> dict:
    """An event about a contact (on its timeline)."""
    return {"at": at, "actor_id": actor_id, "action": action, "entity_type": entity_type,
            "entity_id": entity_id, "contact_id": entity_id, "summary": summary[:255],
            "changes": changes}


def add_consent_history(conn, world: World, events: dict, dm_opt_outs: dict) -> None:
    """The append-only consent history; an opt-out written in a DM names that message."""
    rows, audits = [], []
    for cid, contact_events in events.items():
        p = world.person(cid)
        for at, from_s, to_s, from_dnc, to_dnc, source in contact_events:
            evidence = None
            if to_s == "opted_out" and cid in dm_opt_outs:
                evidence, platform, quote = dm_opt_outs[cid]
                source = f"Replied “{quote}” in {PLATFORM_LABELS[platform]} DM"
            actor = p.owner_id if evidence or source == "Agreed in DM" else world.managers[0]
            rows.append({"contact_id": cid, "actor_id": actor, "at": at, "from_status": from_s,
                         "to_status": to_s, "from_dnc": from_dnc, "to_dnc": to_dnc,
                         "source": source[:200], "note": None, "evidence_message_id": evidence})
            audits.append(_audit(at, actor, "consent", "contact", cid,
                                 f"Consent: {describe(from_s, from_dnc)} → "
                                 f"{describe(to_s, to_dnc)}",
                                 {"consent_status": [from_s, to_s],
                                  "do_not_contact": [from_dnc, to_dnc], "source": source}))
    load.insert(conn, "consent_events", rows)
    load.insert(conn, "audit_events", audits)
