"""The one way a DM gets into Rapport: every road (hand log, correction, deletion, export
import, live channel events, the API) writes messages through this module and nothing else
inserts, changes or deletes them.

One message or many, the same steps, in the caller's transaction (this module flushes,
never commits):

1. check every message (`check`): direction, time not in the future, body within
   MAX_BODY and free of NUL characters, a known platform and attachment kind. One bad
   message refuses the whole batch (ValidationFailed naming the field), nothing written;
2. the consent gate for outbound messages *written in Rapport by a user*
   (`IncomingMessage.written_in_rapport`); imported messages, received messages and echoes
   of what was sent on the platform are a record, not outreach;
3. lock the conversations (row locks on PostgreSQL, the write lock on SQLite), so two DMs
   at once on one conversation are applied one after the other;
4. skip duplicates: the same platform message id (`external_id`) or, for formats without
   ids, the same stable `fingerprint` in that conversation. The unique indexes
   uq_messages_external / uq_messages_fingerprint enforce it; duplicates are counted;
5. reply state and first-response times, by reply_state.advance (appended in order) or a
   replay of the conversation (a backdated message);
6. an inbound message that reads like an opt-out flags the conversation;
7. webhook events for the new messages (and a conversation now waiting on us), except for
   imports, which are history (crm.webhooks.outbox).

The dashboard's DM counts (crm.contacts.dm_counts) are added to in the same transaction:
each new message here, what the reply state changed in reply_state; each contact's latest
outbound DM and the follow-ups' replies are written by reply_state with the reply state
itself.

How to call it:

    conv = ingest.conversation_for(contact, "instagram", thread_id)   # safe when racing
    result = ingest.ingest(actor, conv, [
        IncomingMessage(INBOUND, sent_at, "hi", external_id="mid.1"),
        IncomingMessage(OUTBOUND, sent_at2, "hello", external_id="mid.2", author_id=None),
    ], source=LIVE)
    result.added, result.duplicates

- echo of a message sent on the platform: OUTBOUND with written_in_rapport=False;
- a message composed in Rapport by a user: OUTBOUND, author_id=user.id,
  written_in_rapport=True (refused with OutreachRefused when the contact may not be
  contacted);
- delivery receipts: `update_status(conv, external_id, "delivered")` (only moves forward:
  sent → delivered → read; "failed" is kept with its error);
- deletion on the platform: `mark_deleted(conv, external_id)` (kept, shown as deleted,
  no longer counted; a delete before its message is kept too);
- corrections and deletions by a user: `correct(...)`, `delete(...)`;
- several conversations' new messages at once (a batch of live events):
  `ingest_many(actor, [(conv, messages), …])`, the same steps with one statement of each
  kind for them all (`ingest` is `ingest_many` of one);
- many messages of an export at once: crm.conversations.ingest_bulk (same checks, set-based).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import set_committed_value

from crm.contacts import consent, dm_counts, owner_copies
from crm.contacts.models import PLATFORMS, Contact
from crm.conversations import optout, reply_state
from crm.conversations.models import (INBOUND, MEDIA_LABELS, OUTBOUND, Conversation, Message,
                                      MessageMedia)
from crm.core.errors import ValidationFailed
from crm.core.timeutil import to_utc_naive, utcnow
from crm.core.transaction import after_commit
from crm.extensions import db
from crm.privacy import models as suppression
from crm.settings import services as settings
from crm.webhooks import outbox

# Where a message came from.
HAND, CORRECTION, IMPORT, LIVE, API = "hand", "correction", "import", "live", "api"
MAX_BODY = 20000
# A message "sent" a little in the future is a clock difference, not a typo.
FUTURE_TOLERANCE = timedelta(minutes=5)
# Delivery states of our sent messages, in the order they move.
STATUS_ORDER = {"sent": 1, "delivered": 2, "read": 3}
STATUSES = (*STATUS_ORDER, "failed")


@dataclass
class IncomingMessage:
    """One message as a road hands it over (plain values, nothing written yet)."""

    direction: str                       # INBOUND ("in") or OUTBOUND ("out")
    sent_at: datetime | None = None      # UTC (naive) or aware; None: now
    body: str = ""
    media: str | None = None             # a MEDIA_LABELS key
    external_id: str | None = None       # the platform's message id
    fingerprint: str | None = None       # stable hash, for formats without ids
    author_id: int | None = None         # outbound: the Rapport user who wrote it
    logged_by_id: int | None = None      # whoever entered it by hand
    sender_name: str | None = None
    template_id: int | None = None
    import_id: int | None = None
    written_in_rapport: bool = False     # outbound composed by a Rapport user: consent gate


@dataclass
class Ingested:
    """What `ingest` did: the new messages (flushed, with ids) and the duplicates skipped."""

    conversation: Conversation
    added: list[Message] = field(default_factory=list)
    duplicates: int = 0
    opt_out: optout.StopMatch | None = None


def clean_body(body: str | None) -> str:
    """Browsers send CRLF from textareas; surrounding blank space is not part of a DM."""
    return (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def problem(direction, sent_at, body: str, media, latest, *, by_hand: bool = True):
    """(field, what is wrong) for a malformed message, or None. `sent_at` and `latest` (the
    latest time allowed) compare as the caller holds them (datetimes, or database text).
    A message typed by hand needs text or an attachment; a record of one (an export) not."""
    if direction not in (INBOUND, OUTBOUND):
        return "direction", (f"Choose whether the message was received or sent (direction "
                             f"“{direction}” is unknown).")
    if media and media not in MEDIA_LABELS:
        return "media", f"Unknown attachment kind “{media}”."
    if "\x00" in body:
        return "body", "The message text contains a NUL character."
    if by_hand and not body and not media:
        return "body", "Paste the message text (or choose an attachment)."
    if len(body) > MAX_BODY:
        return "body", f"The message is {len(body):,} characters long; the limit is {MAX_BODY:,}."
    if sent_at > latest:
        return "sent_at", ("The time is in the future; leave it empty for now." if by_hand
                           else f"The time ({sent_at}) is in the future.")
    return None


def check(m: IncomingMessage, *, now: datetime | None = None, where: str = "",
          by_hand: bool = True) -> datetime:
    """Refuse a malformed message naming the field (and `where` it is); returns its UTC time."""
    now = now or utcnow()
    sent_at = to_utc_naive(m.sent_at) if m.sent_at else now
    bad = problem(m.direction, sent_at, m.body or "", m.media, now + FUTURE_TOLERANCE,
                  by_hand=by_hand)
    if bad is not None:
        raise ValidationFailed(where + bad[1], field=bad[0])
    return sent_at


def check_platform(platform: str) -> None:
    if platform not in PLATFORMS:
        raise ValidationFailed(f"Unknown platform “{platform}”.", field="platform")


# -- conversations -----------------------------------------------------------------------
def conversation_for(contact, platform: str, thread_id: str = "", *, title: str | None = None,
                     is_group: bool = False) -> Conversation:
    """The contact's conversation on `platform` with that thread id, created when missing.
    Two requests creating it at once get the same one (no unique-constraint error). For
    contacts created in the same transaction, `new_conversations` makes many at once."""
    check_platform(platform)
    thread_id = thread_id or ""
    found = select(Conversation).where(Conversation.contact_id == contact.id,
                                       Conversation.platform == platform,
                                       Conversation.external_thread_id == thread_id)
    conv = db.session.scalars(found).first()
    if conv is not None:
        return conv
    # A thread of a person erased at their request does not come back (crm.privacy).
    suppression.refuse_if_suppressed([("thread", thread_id, platform)])
    values = _new_conversation_values(platform, thread_id, title, is_group)
    dialect = db.session.connection().dialect.name
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.flush()
    # The conversation keeps its contact's owner (crm.contacts.owner_copies).
    new = make(Conversation.__table__).values(
        contact_id=contact.id, contact_owner_id=owner_copies.owner_of(contact.id), **values)
    db.session.execute(new.on_conflict_do_nothing(
        index_elements=["contact_id", "platform", "external_thread_id"]))
    return db.session.scalars(found).one()


def new_conversations(threads, *, title: str | None = None,
                      is_group: bool = False) -> list[Conversation]:
    """The conversations of contacts created in this transaction, one per (contact, platform,
    thread id), in one flush: nobody else can have given those contacts a conversation, so
    each is simply made. Refused (ErasedPerson) for a thread of a person erased at their
    request."""
    convs = []
    for contact, platform, thread_id in threads:
        check_platform(platform)
        suppression.refuse_if_suppressed([("thread", thread_id, platform)])
        convs.append(Conversation(contact=contact, contact_owner_id=contact.owner_id,
                                  **_new_conversation_values(platform, thread_id, title,
                                                             is_group)))
    db.session.add_all(convs)
    db.session.flush()
    return convs


def _new_conversation_values(platform: str, thread_id: str, title: str | None,
                             is_group: bool) -> dict:
    return {"platform": platform, "external_thread_id": thread_id, "title": title,
            "is_group": bool(is_group), "state": "closed", "message_count": 0,
            "created_at": utcnow()}


# What the lock reads afresh: the columns the writing roads decide on.
LOCKED_COLUMNS = ("state", "message_count", "last_message_at", "last_inbound_at",
                  "last_outbound_at", "waiting_since", "closed_at", "opt_out_message_id",
                  "last_message_preview")


def lock(conv: Conversation) -> tuple[Conversation, int | None]:
    """Hold the conversation until the transaction ends and read its reply state afresh, with
    its contact's owner (whom the dashboard's counts of it are kept under): `lock_many` for
    one. Returns (conversation, owner id)."""
    return conv, lock_many([conv])[conv.id]


def lock_many(convs: list[Conversation]) -> dict[int, int | None]:
    """Hold these conversations until the transaction ends and read their reply state afresh,
    with their contacts' owners, in one statement: on PostgreSQL row locks (SELECT … FOR
    UPDATE, in id order, so writers side by side never deadlock on them), and the contacts'
    rows held FOR SHARE, so a reassignment waits for this transaction; on SQLite the
    database's write lock, taken before reading (what BEGIN IMMEDIATE does: an UPDATE …
    RETURNING), so the values read cannot be stale. Returns {conversation id: owner id}."""
    db.session.flush()
    by_id = {conv.id: conv for conv in convs}
    stmt = _LOCK[db.session.connection().dialect.name == "sqlite"]
    owners = {}
    for conv_id, *row, owner_id in db.session.execute(stmt, {"ids": sorted(by_id)}):
        for name, value in zip(LOCKED_COLUMNS, row):
            set_committed_value(by_id[conv_id], name, value)
        owners[conv_id] = owner_id
    return owners


def _lock_statements() -> dict[bool, object]:
    """lock_many's statement, for SQLite (True) and PostgreSQL (False): built once, the
    conversations' ids bound at each use."""
    table = Conversation.__table__
    columns = [table.c[name] for name in LOCKED_COLUMNS]
    ids = table.c.id.in_(bindparam("ids", expanding=True))
    owner = select(Contact.owner_id).where(Contact.id == table.c.contact_id).scalar_subquery()
    return {
        True: update(table).where(ids).values(id=table.c.id).returning(table.c.id, *columns,
                                                                        owner),
        False: (select(table.c.id, *columns, Contact.owner_id)
                .join(Contact, Contact.id == table.c.contact_id).where(ids)
                .order_by(table.c.id)
                .with_for_update(of=table).suffix_with("FOR SHARE OF contacts")),
    }


_LOCK = _lock_statements()


# -- writing -----------------------------------------------------------------------------
def ingest(actor, conv: Conversation, messages: list[IncomingMessage], *,
           source: str = HAND, counts: dm_counts.Counts | None = None) -> Ingested:
    """Write new messages into one conversation (see the module docstring). `actor` is the
    Rapport user acting (None for a platform's own events): messages they typed default to
    being logged by them, and those they wrote (written_in_rapport) to being theirs. The
    dashboard's counts are written here, or gathered in `counts` for the caller to write
    (a batch of live events writes its conversations' together)."""
    return ingest_many(actor, [(conv, messages)], source=source, counts=counts)[0]


def ingest_many(actor, items: list[tuple[Conversation, list[IncomingMessage]]], *,
                source: str = HAND, counts: dm_counts.Counts | None = None) -> list[Ingested]:
    """`ingest` for several conversations at once (a batch of live events): the same steps,
    with one lock, one look for duplicates and one INSERT for them all. Each conversation
    appears once in `items`. Returns what was done in each, in the order of `items`."""
    now = utcnow()
    by_hand = source in (HAND, CORRECTION)
    actor_id = getattr(actor, "id", None)
    checked = []
    for conv, messages in items:
        times = [check(m, now=now, where=_where(i, len(messages)), by_hand=by_hand)
                 for i, m in enumerate(messages)]
        if any(m.direction == OUTBOUND and m.written_in_rapport for m in messages):
            consent.require_may_contact(conv.contact, action="outbound DM")
        for m in messages:
            if by_hand and m.logged_by_id is None:
                m.logged_by_id = actor_id
            if m.written_in_rapport and m.author_id is None:
                m.author_id = actor_id
        checked.append((conv, messages, times))
    owners = lock_many([conv for conv, _ in items])
    stored = _stored_keys(checked)
    results, added = [], []
    for conv, messages, times in checked:
        result = Ingested(conv)
        results.append(result)
        fresh = _without_duplicates(messages, times, result, stored[conv.id])
        if not fresh:
            continue
        fresh.sort(key=lambda pair: pair[1])   # stable: equal times keep their arrival order
        state = reply_state.ReplyState.of(conv)
        step = None
        if reply_state.in_order(state, fresh[0][1]):
            step = reply_state.advance(state, [(m.direction, at, m.author_id)
                                               for m, at in fresh])
        result.added = [Message(
            conversation_id=conv.id, direction=m.direction, sent_at=at,
            body=clean_body(m.body), media=m.media or None,
            author_id=m.author_id if m.direction == OUTBOUND else None,
            logged_by_id=m.logged_by_id, sender_name=m.sender_name,
            template_id=m.template_id, external_id=m.external_id or None,
            fingerprint=m.fingerprint or None, import_id=m.import_id,
            replied_at=step.replied[i] if step else None) for i, (m, at) in enumerate(fresh)]
        added.append((result, step, state.state))
    if not added:
        return results
    db.session.add_all([row for result, _, _ in added for row in result.added])
    db.session.flush()
    pending = dm_counts.Counts() if counts is None else counts
    writes, replayed = reply_state.Writes(), []
    for result, step, _ in added:
        conv = result.conversation
        change = dm_counts.Change(pending, owners[conv.id], conv.platform)
        for row in result.added:
            change.message(*dm_counts.counted(row))
        if step is not None:
            last = result.added[-1]
            reply_state.apply(conv, step, reply_state.preview_of(last.body, last.media),
                              change, writes)
        else:   # the replay writes the difference it makes itself
            replayed.append(conv)
    writes.run()
    if replayed:
        reply_state.rebuild_reply_state([conv.id for conv in replayed])
        for conv in replayed:
            db.session.refresh(conv)
    if counts is None:
        pending.write()
    for result, _, state_before in added:
        conv = result.conversation
        result.opt_out = flag_opt_out(conv, [r for r in result.added if r.direction == INBOUND])
        if source != IMPORT:   # an import is history, not news (crm.webhooks.outbox)
            outbox.messages_added(conv, result.added, state_before)
    return results


def _where(i: int, n: int) -> str:
    return f"Message {i + 1}: " if n > 1 else ""


def _stored_keys(checked) -> dict[int, tuple[set, set]]:
    """{conversation id: (external ids, fingerprints)} already stored among those these
    messages carry: one statement for each kind, for all the conversations."""
    stored = {conv.id: (set(), set()) for conv, _, _ in checked}
    for i, column in enumerate((Message.external_id, Message.fingerprint)):
        keys = {getattr(m, column.key) for _, messages, _ in checked for m in messages}
        keys -= {None, ""}
        if keys:
            for conv_id, key in db.session.execute(select(Message.conversation_id, column).where(
                    Message.conversation_id.in_(stored), column.in_(keys))):
                stored[conv_id][i].add(key)
    return stored


def _without_duplicates(messages, times, result: Ingested, stored: tuple[set, set]) -> list:
    """(message, sent_at) pairs not already stored in the conversation (`stored`: its
    external ids and fingerprints) nor earlier in the batch; the others are counted in
    result.duplicates."""
    seen_ext, seen_fp = stored
    fresh = []
    for m, at in zip(messages, times):
        if (m.external_id and m.external_id in seen_ext) or \
                (m.fingerprint and m.fingerprint in seen_fp):
            result.duplicates += 1
            continue
        if m.external_id:
            seen_ext.add(m.external_id)
        if m.fingerprint:
            seen_fp.add(m.fingerprint)
        fresh.append((m, at))
    return fresh


def flag_opt_out(conv: Conversation, inbound: list[Message], phrases=None):
    """Flag the conversation when one of these inbound messages reads like an opt-out (the
    latest such one); returns the match. Contacts already out of reach are not flagged."""
    if not inbound or not consent.may_contact(conv.contact).allowed:
        return None
    phrases = phrases or settings.get("stop_phrases")
    for message in sorted(inbound, key=lambda r: (r.sent_at, r.id), reverse=True):
        match = optout.find_stop_phrase(message.body, phrases)
        if match is not None:
            conv.opt_out_message_id = message.id
            return match
    return None


def correct(message: Message, *, body, direction, sent_at, media=None,
            author_id=None) -> dict:
    """Change a stored message; returns {field: [before, after]} (empty: nothing changed).
    The conversation's reply state is replayed and the opt-out flag checked again."""
    if message.deleted_at is not None:
        raise ValidationFailed("The sender deleted this message; it cannot be corrected.",
                               field="body")
    incoming = IncomingMessage(direction, sent_at or message.sent_at, clean_body(body),
                               media or None)
    at = check(incoming)
    conv, owner_id = lock(message.conversation)
    before = audit_values(message)
    was_counted = dm_counts.counted(message)
    if direction != message.direction:
        message.author_id = author_id if direction == OUTBOUND else None
    message.body, message.direction = incoming.body, direction
    message.sent_at, message.media = at, incoming.media
    after = audit_values(message)
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if not changes:
        return changes
    message.edited_at = utcnow()
    if conv.opt_out_message_id == message.id:
        conv.opt_out_message_id = None
    db.session.flush()
    _count_message(conv, owner_id, was_counted, dm_counts.counted(message))
    reply_state.rebuild_reply_state([conv.id])
    conv = db.session.get(Conversation, conv.id)
    if message.direction == INBOUND:
        flag_opt_out(conv, [message])
    return changes


def delete(message: Message) -> None:
    """Remove a stored message; the conversation's reply state is replayed."""
    conv, owner_id = lock(message.conversation)
    if conv.opt_out_message_id == message.id:
        conv.opt_out_message_id = None
    forget_files([message.id])
    if message.deleted_at is None:   # a message reported deleted is no longer counted
        _count_message(conv, owner_id, dm_counts.counted(message), None)
    db.session.delete(message)
    db.session.flush()
    reply_state.follow_up_replies([message.id])
    reply_state.rebuild_reply_state([conv.id])


def erase_messages(conversation_ids: list[int], *, keep_ids=()) -> int:
    """Erase what the messages of these conversations say (crm.privacy): text, attachment
    kind and file, sender name, platform id and fingerprint. The rows stay as anonymous
    records that a DM was sent or received then, so reply state, response times and the
    dashboard's counts are unchanged; the word index forgets the text (its triggers follow
    the body). `keep_ids`: messages kept as they are (consent evidence still within its
    retention). Returns how many messages were erased."""
    db.session.flush()
    erased = 0
    keep = sorted(set(keep_ids))
    for start in range(0, len(conversation_ids), 500):
        part = conversation_ids[start:start + 500]
        forget_files([i for i in db.session.scalars(select(MessageMedia.message_id).join(
            Message, Message.id == MessageMedia.message_id).where(
                Message.conversation_id.in_(part))) if i not in keep])
        db.session.flush()
        stmt = (update(Message)
                .where(Message.conversation_id.in_(part))
                .values(body="", media=None, sender_name=None, external_id=None,
                        fingerprint=None, delivery_error=None)
                .execution_options(synchronize_session=False))
        if keep:
            stmt = stmt.where(Message.id.not_in(keep))
        erased += db.session.execute(stmt).rowcount or 0
    db.session.expire_all()
    return erased


def _count_message(conv: Conversation, owner_id, was: tuple | None, now: tuple | None) -> None:
    """The dashboard's counts of one message, as it `was` and as it is `now` (None: not
    counted), written at once."""
    counts = dm_counts.Counts()
    change = dm_counts.Change(counts, owner_id, conv.platform)
    if was is not None:
        change.message(*was, sign=-1)
    if now is not None:
        change.message(*now)
    counts.write()


# What mark_deleted did.
MARKED, ALREADY_DELETED, DELETED_AHEAD = "marked", "already", "ahead"


def mark_deleted(conv: Conversation, external_id: str, *, direction: str = INBOUND,
                 at: datetime | None = None) -> str:
    """The platform says this message was deleted (unsent). The row stays, marked deleted
    with its text erased: the thread shows "This message was deleted" in its place, and its
    words are neither shown nor found anywhere again.

    A deleted message no longer counts, exactly as removing it did before: the reply state
    is replayed without it (state, waiting since, response times, message_count, the
    preview, replied_at of what it answered), the dashboard's DM counts leave it out, and it
    is no longer the conversation's opt-out evidence. So a question the contact unsent no
    longer waits for a reply, and an answer we unsent no longer answers.

    Idempotent under retries: a second delete changes nothing (ALREADY_DELETED). A delete
    that arrives before its message (DELETED_AHEAD) is kept as a deleted row with that
    message id (`direction`, at `at`): the message, when it comes, is a duplicate of it and
    never shows. Returns MARKED, ALREADY_DELETED or DELETED_AHEAD."""
    conv, owner_id = lock(conv)
    now = utcnow()
    message = db.session.scalars(select(Message).where(
        Message.conversation_id == conv.id, Message.external_id == external_id)).first()
    if message is None:
        db.session.add(Message(
            conversation_id=conv.id, direction=OUTBOUND if direction == OUTBOUND else INBOUND,
            sent_at=min(to_utc_naive(at), now) if at else now, body="",
            external_id=external_id, deleted_at=now))
        db.session.flush()
        return DELETED_AHEAD
    if message.deleted_at is not None:
        return ALREADY_DELETED
    if conv.opt_out_message_id == message.id:
        conv.opt_out_message_id = None
    _count_message(conv, owner_id, dm_counts.counted(message), None)
    db.session.execute(
        update(Message).where(Message.id == message.id)
        .values(deleted_at=now, body="", replied_at=None)
        .execution_options(synchronize_session=False))
    db.session.expire(message)
    forget_files([message.id])
    reply_state.rebuild_reply_state([conv.id])
    return MARKED


def media_folder() -> Path:
    """Where the files of media messages are kept (MEDIA_FOLDER)."""
    path = Path(current_app.config["MEDIA_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def forget_files(message_ids: list[int]) -> None:
    """The files of these messages go with them: their rows now, in the caller's
    transaction, and the files on disk once it commits (a rollback keeps both)."""
    for row in db.session.scalars(select(MessageMedia).where(
            MessageMedia.message_id.in_(message_ids))):
        if row.path:
            after_commit(_unlink, media_folder() / row.path)
        db.session.delete(row)


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def update_status(conv: Conversation, external_id: str, status: str,
                  error: str | None = None) -> bool:
    """A delivery receipt for one of our sent messages. Statuses only move forward
    (sent → delivered → read); "failed" is kept with its error. False when the message is
    unknown (the receipt came first: the caller may keep it and try again)."""
    if status not in STATUSES:
        raise ValidationFailed(f"Unknown delivery status “{status}”.", field="status")
    message = db.session.scalars(select(Message).where(
        Message.conversation_id == conv.id, Message.external_id == external_id)).first()
    if message is None:
        return False
    if status == "failed":
        message.delivery_status = "failed"
        message.delivery_error = (error or "")[:300] or None
    elif STATUS_ORDER[status] > STATUS_ORDER.get(message.delivery_status or "", 0) \
            and message.delivery_status != "failed":
        message.delivery_status = status
    db.session.flush()
    return True


def audit_values(message: Message) -> dict:
    """A message's fields as the audit log keeps them."""
    body = message.body if len(message.body) <= 500 else message.body[:500] + "…"
    return {"body": body, "direction": message.direction, "sent_at": message.sent_at,
            "media": message.media}

