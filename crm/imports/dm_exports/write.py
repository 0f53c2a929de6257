"""Writing a confirmed DM import: contacts, conversations, then messages in bulk.

Everything happens in the caller's one transaction, so a failure half way leaves nothing.
Messages go through the ingestion service's set-based path (crm.conversations.ingest_bulk):
checked (one malformed message refuses the import), inserted with executemany in batches
(no ORM object per message), a message already stored for the same thread — same platform
message id, or same fingerprint — skipped, so importing an export twice, or a newer
overlapping one, adds nothing twice; reply state and opt-out flags as for a hand-logged DM.

On SQLite, a load that is big next to the messages table drops the indexes it would
scatter writes over (by direction and time, by author) inside the transaction and builds them
again at the end: sorting once is far cheaper than a million random index inserts, and
readers keep seeing the committed table (with its indexes) until the commit. A rollback
brings the indexes back with the data.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import func, select

from crm.audit import services as audit
from crm.contacts import services as contacts
from crm.contacts.models import PLATFORM_LABELS, SocialHandle
from crm.conversations import ingest_bulk, search_index as message_search
from crm.conversations.ingest_bulk import BulkIngest, stored_keys
from crm.conversations.models import CLOSED, NEEDS_REPLY, Conversation, Message
from crm.conversations.services import get_or_create_conversation
from crm.core.errors import ServiceError
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports import bulk
from crm.imports.dm_exports import matching, stream as dm_stream
from crm.imports.dm_exports.plan import ThreadPlan, chosen_me
from crm.webhooks import outbox

# Existing messages of re-imported threads that may be held in memory for the bulk path.
PREFETCH_LIMIT = 200_000
CHUNK = 500


@dataclass
class ThreadState:
    plan: ThreadPlan
    scope: list[tuple[int, int]]            # (conversation id, contact id) with this thread key
    seen: tuple[set, set] | None = None     # external ids, fingerprints already stored
    conversation_id: int | None = None
    added: int = 0
    duplicates: int = 0
    checked: int = 0                        # messages of the thread checked so far


@dataclass
class Outcome:
    counts: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    conversation_ids: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)     # how long each phase took


def write_import(actor, run, source, plans: list[ThreadPlan], options: dict, *,
                 progress=None, workers: int = 0, bulk_min_rows: int = 100_000,
                 dry_run: bool = False, cache_mb: int = 256) -> Outcome:
    """Write the planned threads; returns counts and problems. The caller commits.

    With dry_run, every message is read and compared with what is stored, but nothing is
    written: the counts say what an import would do.
    """
    conn = db.session.connection()
    restore_cache = bulk.bigger_cache(conn, cache_mb)
    try:
        with outbox.history():   # history, not news: no webhook events (crm.webhooks.outbox)
            return _write(actor, run, source, plans, options, conn, progress=progress,
                          workers=workers, bulk_min_rows=bulk_min_rows, dry_run=dry_run)
    finally:
        restore_cache()


def _write(actor, run, source, plans, options, conn, *, progress, workers, bulk_min_rows,
           dry_run) -> Outcome:
    platform = source.platform
    selected = [p for p in plans if p.action == "import"]
    by_key = {t.key: t for t in source.threads()}
    threads = [by_key[p.key] for p in selected]
    me, day_first = chosen_me(options), options.get("day_first")
    author_id = run.owner_id or getattr(actor, "id", None)
    new_kind = options.get("new_kind") or "contact"
    writer = BulkIngest(conn, platform)
    scopes = _conversations_by_key(platform, [p.key for p in selected])
    states = [ThreadState(p, scopes.get(p.key, [])) for p in selected]
    total = sum(p.summary["count"] for p in selected)
    outcome = Outcome()
    created: dict[str, object] = {}      # one new contact per person, whatever the threads
    matched_contacts = {s.plan.contact.id for s in states if s.plan.contact is not None}

    started = time.perf_counter()
    if not dry_run:   # threads imported before: held until the commit, then read
        ingest_bulk.lock([cid for s in states for cid, _ in s.scope])
    bulk_load = not dry_run and _bulk_load_wanted(conn, total, bulk_min_rows, states)
    if bulk_load:
        _prefetch_seen(states)
        bulk.hold_write_transaction(conn, run.id)
        indexes = ingest_bulk.scattered_indexes()
        for ix in indexes:
            ix.drop(conn)
        indexed_up_to = message_search.suspend_insert_indexing(conn)

    def contact_for(state: ThreadState):
        contact = state.plan.contact
        if contact is None:
            key = _person_key(state.plan)
            contact = created.get(key)
            if contact is None:
                contact = _new_contact(actor, run, platform, state.plan, new_kind, outcome)
                created[key] = contact
            state.plan.contact = contact
        elif state.plan.match.how in ("name", "picked"):
            _learn_identity(actor, contact, platform, state.plan, outcome)
        return contact

    def conversation_for(state: ThreadState) -> int:
        if state.conversation_id is None:
            contact = contact_for(state)
            s = state.plan.summary
            conv = get_or_create_conversation(contact, platform, s["key"],
                                              title=(s["title"] or None) and s["title"][:200],
                                              is_group=s["group"])
            state.conversation_id = conv.id
        return state.conversation_id

    # Contacts and conversations of threads never imported before are made first, while the
    # transaction is small: every message of such a thread is new, so each gets one. No
    # conversation holds such a thread yet (that is what "never imported" means here), so
    # they are inserted together.
    if not dry_run:
        if progress:
            progress(0, total, "contacts")
        fresh = [state for state in states if not state.scope and state.plan.summary["count"]]
        for state in fresh:
            contact_for(state)
        _new_conversations(platform, fresh)
    outcome.seconds["contacts"] = round(time.perf_counter() - started, 2)

    run_id, now = run.id, writer.now
    known = {i: (st.conversation_id, author_id, run_id, now)
             for i, st in enumerate(states) if st.conversation_id is not None and not st.scope}
    fmt = dm_stream.RowFormat(writer.to_db, known)
    if workers and dm_stream.can_fork() and len(threads) > 1:
        stream = dm_stream.forked(source, threads, me, day_first, fmt, workers)
    else:
        stream = dm_stream.in_line(source, threads, me, day_first, fmt)
    done = 0
    for index, rows, last, finished, state_of in stream:
        state = states[index]
        where = f"Thread “{state.plan.summary['title']}”"
        if finished:  # a new thread: every message is new and the rows are ready
            writer.check(rows, where, state.checked + 1, at=2, body=3, media=4, direction=1)
            state.checked += len(rows)
            writer.add_new(state.conversation_id, rows, state_of)
            state.added += len(rows)
            state.duplicates += state_of.duplicates
        elif rows:
            writer.check(rows, where, state.checked + 1, at=0, body=1, media=2)
            state.checked += len(rows)
            if state.seen is None:
                state.seen = stored_keys([cid for cid, _ in state.scope])
            fresh = writer.without_duplicates(rows, state.seen)
            state.duplicates += len(rows) - len(fresh)
            if fresh and dry_run:
                state.added += len(fresh)
                if state.plan.contact is None:
                    created.setdefault(_person_key(state.plan), None)
            elif fresh:
                conv_id = conversation_for(state)
                writer.add(conv_id, fresh, author_id=author_id, import_id=run_id)
                state.added += len(fresh)
        done += len(rows)
        if progress and rows:
            progress(done, total, "messages")
        if last:
            state.seen = None  # this thread is finished; let its ids go
    writer.messages.flush()
    outcome.seconds["messages"] = round(time.perf_counter() - started
                                        - outcome.seconds["contacts"], 2)
    outcome.seconds["insert"] = round(writer.messages.seconds, 2)
    mark = time.perf_counter()

    touched = [s.conversation_id for s in states if s.added and s.conversation_id]
    if progress and not dry_run:
        progress(done, total, "reply state")
    # New conversations got their reply state from the readers; the others (messages added
    # to a thread imported before) are replayed from the table.
    writer.flush()
    if not dry_run:
        writer.settle(touched)
    outcome.seconds["reply_state"] = round(time.perf_counter() - mark, 2)
    if bulk_load:
        # Built after the reply state has written replied_at, which one of them holds.
        if progress:
            progress(done, total, "indexes")
        mark = time.perf_counter()
        for ix in indexes:
            ix.create(conn)
        message_search.resume_insert_indexing(conn, indexed_up_to)
        outcome.seconds["indexes"] = round(time.perf_counter() - mark, 2)
    label = PLATFORM_LABELS.get(platform, platform)
    for state in states if not dry_run else ():
        if state.added and state.plan.contact is not None:
            audit.record(actor, "import", None, entity_type="contact",
                         entity_id=state.plan.contact.id,
                         summary=f"{state.added:,} {label} messages imported from {run.filename}")
    erased = sum(1 for p in plans if p.match.how == "erased")
    for p in plans:
        if p.action == "skip" and p.match.blocked and p.match.how != "erased":
            outcome.problems.append(f"Thread “{p.summary['title']}” skipped: {p.reason}.")
    if erased:   # named by their number only: nothing of them is kept
        outcome.problems.append(f"{erased} thread{'s' if erased != 1 else ''} skipped: "
                                "erased person.")
    outcome.conversation_ids = touched
    outcome.counts = {**({"threads_erased": erased} if erased else {}),
        "threads": len(selected),
        "threads_skipped": len(plans) - len(selected),
        "messages_added": sum(s.added for s in states),
        "duplicates_skipped": sum(s.duplicates for s in states),
        "contacts_created": len(created),
        "contacts_matched": len(matched_contacts),
        "conversations": len(touched) if not dry_run else sum(1 for s in states if s.added),
        "needs_reply": _waiting_on_us(touched),
    }
    return outcome


def _waiting_on_us(conversation_ids: list[int]) -> int:
    """How many of the imported conversations now wait for our answer (they join the inbox)."""
    waiting = 0
    for start in range(0, len(conversation_ids), CHUNK):
        waiting += db.session.scalar(select(func.count()).select_from(Conversation).where(
            Conversation.id.in_(conversation_ids[start:start + CHUNK]),
            Conversation.state == NEEDS_REPLY)) or 0
    return waiting


# -- contacts ----------------------------------------------------------------------------
def _person_key(plan: ThreadPlan) -> str:
    """The same new person in two threads (a chat and a group) becomes one contact."""
    return matching.person_key(plan.match.participant, plan.match.identities)


def _new_contact(actor, run, platform, plan: ThreadPlan, kind: str, outcome: Outcome):
    p = plan.match.participant
    contact = contacts.create_contact(actor, {"name": matching.display_name(platform, p),
                                              "kind": kind}, owner_id=run.owner_id)
    ident = plan.match.identities
    if ident.get("handle"):
        _add_handle(actor, contact, platform, ident["handle"], ident.get("account_id"), plan,
                    outcome)
    elif ident.get("account_id"):
        # X names people by account id only. The id is kept (so the next export matches) under
        # a handle that says so, with the link X resolves to their profile.
        account = ident["account_id"]
        if db.session.scalar(select(SocialHandle.id).where(
                SocialHandle.platform == platform, SocialHandle.handle == f"id:{account}")) is None:
            contact.handles.append(SocialHandle(
                platform=platform, handle=f"id:{account}", account_id=account,
                profile_url=f"https://x.com/i/user/{account}" if platform == "x" else None))
            contacts.refresh_search_text(contact)
    return contact


def _learn_identity(actor, contact, platform, plan: ThreadPlan, outcome: Outcome) -> None:
    """A contact matched by name or chosen by hand learns the thread's handle, if it has none."""
    ident = plan.match.identities
    if ident.get("handle") and not any(h.platform == platform for h in contact.handles):
        _add_handle(actor, contact, platform, ident["handle"], ident.get("account_id"), plan,
                    outcome)


def _add_handle(actor, contact, platform, handle, account_id, plan, outcome) -> None:
    try:
        contacts.add_handle(actor, contact, platform, handle, account_id=account_id,
                            audited=False)
    except ServiceError as e:
        outcome.problems.append(f"Thread “{plan.summary['title']}”: handle {handle} not added "
                                f"to {contact.name} ({e.message})")


def _new_conversations(platform: str, states: list[ThreadState]) -> None:
    """One conversation per thread, as get_or_create_conversation would make it."""
    if not states:
        return
    db.session.flush()
    now = utcnow()
    rows = []
    for state in states:
        s = state.plan.summary
        rows.append({"contact_id": state.plan.contact.id,
                     "contact_owner_id": state.plan.contact.owner_id, "platform": platform,
                     "external_thread_id": s["key"] or "",
                     "title": (s["title"] or None) and s["title"][:200],
                     "is_group": bool(s["group"]), "state": CLOSED, "message_count": 0,
                     "created_at": now})
    for state, conv_id in zip(states, bulk.insert_returning_ids(Conversation.__table__, rows)):
        state.conversation_id = conv_id


# -- duplicates --------------------------------------------------------------------------
def _conversations_by_key(platform: str, keys: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Every conversation already holding one of these threads, whoever's contact it is."""
    out: dict[str, list[tuple[int, int]]] = {}
    for start in range(0, len(keys), CHUNK):
        for cid, key, contact_id in db.session.execute(
                select(Conversation.id, Conversation.external_thread_id, Conversation.contact_id)
                .where(Conversation.platform == platform,
                       Conversation.external_thread_id.in_(keys[start:start + CHUNK]))):
            out.setdefault(key, []).append((cid, contact_id))
    return out


def _prefetch_seen(states: list[ThreadState]) -> None:
    """Read the stored ids of every re-imported thread now, while the indexes exist."""
    for state in states:
        state.seen = stored_keys([cid for cid, _ in state.scope]) if state.scope else (set(), set())


# -- the SQLite bulk path ----------------------------------------------------------------
def _bulk_load_wanted(conn, rows: int, minimum: int, states) -> bool:
    if conn.dialect.name != "sqlite" or rows < max(1, minimum):
        return False
    existing = conn.execute(select(func.max(Message.id))).scalar() or 0
    if rows * 2 < existing:
        return False  # rebuilding the indexes of a much bigger table would cost more
    ids = [cid for s in states for cid, _ in s.scope]
    prior = 0
    for start in range(0, len(ids), CHUNK):
        prior += conn.execute(select(func.count()).select_from(Message).where(
            Message.conversation_id.in_(ids[start:start + CHUNK]))).scalar() or 0
    return prior <= PREFETCH_LIMIT
