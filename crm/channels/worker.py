"""What the worker does with a stored event: messages through the one ingestion service,
receipts onto our sent messages, new senders into contacts."""
import json
import logging
import time
from datetime import timedelta

from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload, lazyload

from crm import jobs
from crm.audit import services as audit
from crm.channels import events, media, people, spool
from crm.channels.events import DM, Deleted, Receipt
from crm.channels.models import (DONE, FAILED, PENDING, SENDING, WHATSAPP, Channel,
                                 ChannelEvent, OutboundSend)
from crm.contacts import dm_counts
from crm.conversations import ingest
from crm.contacts.models import Contact, SocialHandle
from crm.conversations.models import OUTBOUND, Conversation, Message
from crm.core.errors import ServiceError
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.privacy import models as suppression

log = logging.getLogger(__name__)


# Events per transaction: enough to share the commit, the claim and the ingestion's
# statements; on SQLite fewer, since a batch holds the one write lock (webhooks' inserts go
# to the spool, but a DM logged by hand waits for the batch: about a tenth of a second).
BATCH = {"postgresql": 50, "sqlite": 25}
MEDIA_JOB = "channels.media"   # crm.channels.jobs
MAX_ATTEMPTS = 5
WRITE_LOCK_ID = 7_406_019   # PostgreSQL advisory lock: one batch writes at a time


class ReceiptsWaiting(Exception):
    """A receipt names a message we have not stored yet (its Send API answer is on the way)."""


def drain(*, on_new_people=None, idle_wait: float = 10.0, linger: float = 0.0,
          batch: int | None = None) -> int:
    """Apply pending events, oldest first, a batch per transaction, until none is left (the
    worker's job); returns how many were applied.

    A batch is claimed so that no other worker has it: on PostgreSQL `FOR UPDATE SKIP
    LOCKED` (several workers drain side by side, each its own events), on SQLite the write
    lock taken first (workers take turns). Its events are applied in one transaction
    (`apply_batch`) and marked done in it, so a crash leaves them all pending, and Meta's
    retries and a rerun change nothing more (the ingestion service skips what it holds).
    With `linger`, the drain waits that long for new events before it ends, so an event
    stored while it was finishing is not left for the next one."""
    batch = batch or BATCH.get(db.session.connection().dialect.name, 10)
    db.session.rollback()
    applied = 0
    quiet_since = None
    transient = 0
    while True:
        if spool.enabled():
            spool.move_in()
        rows = claim(batch)
        if rows is None:
            # SQLite: another worker has held the write lock all this while; it drains on
            # (two would only take turns at the one lock).
            return applied
        if rows:
            try:
                applied += apply_batch(rows, on_new_people=on_new_people,
                                       one_by_one=transient >= 3)
                transient = 0
            except OperationalError:
                # A lock waited on too long, a deadlock: nothing was written; again.
                db.session.rollback()
                log.warning("a batch of channel events will be tried again", exc_info=True)
                transient += 1
                time.sleep(0.1 * transient)
            quiet_since = None
            continue
        db.session.rollback()
        now = utcnow()
        later = db.session.scalar(select(ChannelEvent.retry_at).where(
            ChannelEvent.status == PENDING, ChannelEvent.retry_at.is_not(None))
            .order_by(ChannelEvent.retry_at).limit(1))
        db.session.rollback()
        if later is not None and (later - now).total_seconds() <= idle_wait:
            time.sleep(min(max(0.05, (later - now).total_seconds()), 0.5))
            continue
        quiet_since = quiet_since or time.monotonic()
        if time.monotonic() - quiet_since >= linger:
            return applied
        time.sleep(0.05)


def claim(limit: int) -> list | None:
    """(id, channel_id, body, attempts) of up to `limit` pending events, oldest first, held
    by this transaction alone; None when SQLite's write lock stayed taken (busy_timeout)."""
    t = ChannelEvent.__table__
    now = utcnow()
    ready = and_(t.c.status == PENDING, or_(t.c.retry_at.is_(None), t.c.retry_at <= now))
    columns = (t.c.id, t.c.channel_id, t.c.body, t.c.attempts)
    if db.session.connection().dialect.name == "postgresql":
        stmt = (select(*columns).where(ready).order_by(t.c.id).limit(limit)
                .with_for_update(skip_locked=True))
    else:
        # The write lock first (what BEGIN IMMEDIATE does), then the batch: an UPDATE that
        # changes nothing but returns the rows.
        ids = select(t.c.id).where(ready).order_by(t.c.id).limit(limit).scalar_subquery()
        stmt = update(t).where(t.c.id.in_(ids)).values(attempts=t.c.attempts).returning(*columns)
        try:
            return sorted(db.session.execute(stmt).all(), key=lambda r: r.id)
        except OperationalError as e:
            if "locked" not in str(e):
                raise
            db.session.rollback()
            return None
    return sorted(db.session.execute(stmt).all(), key=lambda r: r.id)


def apply_batch(rows, *, on_new_people=None, one_by_one: bool = False) -> int:
    """Apply claimed events in one transaction and commit; returns how many were applied.
    Should anything fail, the batch is rolled back and its events applied one at a time,
    each in its own transaction, so a bad event fails alone. A database error that passes
    (OperationalError: a lock, a deadlock) is raised, nothing written, for the caller to
    try again."""
    if one_by_one:
        db.session.rollback()
        return sum(apply_one(r.id, on_new_people=on_new_people) or 0 for r in rows)
    try:
        done, waiting, new_people = _apply_records(rows)
        t = ChannelEvent.__table__
        now = utcnow()
        if done:
            db.session.execute(update(t).where(t.c.id.in_(done))
                               .values(status=DONE, processed_at=now))
        for event_id, attempts in waiting.items():
            db.session.execute(update(t).where(t.c.id == event_id).values(
                attempts=attempts + 1, retry_at=now + timedelta(seconds=2)))
        db.session.commit()
    except OperationalError:
        raise
    except Exception:
        db.session.rollback()
        log.warning("a batch of %s channel events failed; applying them one by one",
                    len(rows), exc_info=True)
        return sum(apply_one(r.id, on_new_people=on_new_people) or 0 for r in rows)
    _tell_new_people(new_people, on_new_people)
    return len(done)


def _tell_new_people(new_people, on_new_people) -> None:
    if not new_people or on_new_people is None:
        return
    by_channel = {}
    for channel_id, person_id in new_people:
        by_channel.setdefault(channel_id, []).append(person_id)
    for channel_id, person_ids in by_channel.items():
        on_new_people(channel_id, list(dict.fromkeys(person_ids)))


def _apply_records(rows) -> tuple[list, dict, list]:
    """Apply the records of claimed events: (ids applied, {id waiting for a retry: its
    attempts}, new senders). Senders new to Rapport are taken in first, people in a fixed
    order (channel, person id); then every person's messages go through the ingestion service
    in one call (which locks the conversations in id order, so workers side by side never
    deadlock on them); then each person's deletions and receipts. One person's records keep
    the order of their events."""
    channels = {c.id: c for c in db.session.scalars(
        select(Channel).options(lazyload(Channel.templates)))}
    per_person: dict = {}
    parsed = []
    for row in rows:
        received_by = channels[row.channel_id]
        parsed.append((row, received_by, events.parse(received_by.kind, json.loads(row.body))))
    if db.session.connection().dialect.name == "postgresql":
        # Every batch's writes add to the same rows (the dashboard's DM counts of the current
        # hour and day: written once a batch, in key order, but a deletion writes its own),
        # and batches side by side could take them in different orders. Workers claim and
        # parse side by side, and write one batch at a time, in the order they get this lock.
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": WRITE_LOCK_ID})
    for row, received_by, found in parsed:
        for record in found.records:
            channel = _route_among(channels, received_by, record.account)
            per_person.setdefault((channel.id, record.person_id), []).append((row, record))
    echoes = _EchoSends([r for recs in per_person.values() for _, r in recs
                         if isinstance(r, DM) and r.direction == OUTBOUND])
    known = _conversations(channels, list(per_person))
    waiting, refused = {}, set()
    first_heard = {key: records for key, records in per_person.items() if key not in known
                   and any(isinstance(r, (DM, Deleted)) for _, r in records)}
    new_people = _take_in(channels, first_heard, known, refused)
    people_now = [(channels[channel_id], person_id, records, known.get((channel_id, person_id)))
                  for (channel_id, person_id), records in sorted(per_person.items())
                  if (channel_id, person_id) not in refused]
    counts = dm_counts.Counts()   # the dashboard's, of every DM of the batch: written once
    _ingest_messages(people_now, echoes, counts)
    for channel, person_id, records, conv in people_now:
        for row, record in records:
            if isinstance(record, Deleted):
                _mark_deleted(conv, record)
            elif isinstance(record, Receipt) and not _apply_receipt(channel, record, conv):
                waiting[row.id] = row.attempts
    counts.write()
    _forget_refused(parsed, channels, refused)
    last_try = {r.id for r in rows if r.attempts + 1 >= MAX_ATTEMPTS}
    waiting = {i: a for i, a in waiting.items() if i not in last_try}
    return [r.id for r in rows if r.id not in waiting], waiting, new_people


def _route_among(channels: dict, received_by: Channel, account: str | None) -> Channel:
    """The channel an entry is for: one Meta app (one callback URL) may serve several Pages,
    Instagram accounts or WhatsApp numbers, each connected as its own channel."""
    if not account or account in (received_by.account_id, received_by.phone_number_id):
        return received_by
    for c in channels.values():
        if c.kind == received_by.kind and account == (
                c.phone_number_id if c.kind == WHATSAPP else c.account_id):
            return c
    return received_by


def _take_in(channels: dict, first_heard: dict, known: dict, refused: set) -> list:
    """Conversations for the people a batch is the first to hear of ({(channel id, person
    id): their records}), added to `known`; returns those new to Rapport, whose contacts were
    made. A person erased at their request is not taken in again: their records are refused,
    said so in the audit log, and they are added to `refused`."""
    new_people = []
    by_channel: dict = {}
    for (channel_id, person_id), records in sorted(first_heard.items()):
        by_channel.setdefault(channel_id, {})[person_id] = next(
            (r.person_name for _, r in records if isinstance(r, DM) and r.person_name), None)
    for channel_id, names in by_channel.items():
        channel = channels[channel_id]
        threads = {p: people.thread_id(channel, p) for p in names}
        erased = {p for p in names if suppression.is_suppressed(
            [("thread", threads[p], channel.platform)])}
        found, new, refused_now = people.sender_contacts(
            channel, {p: n for p, n in names.items() if p not in erased})
        for person_id in sorted(erased | refused_now):
            _refuse(channel, person_id, first_heard[(channel_id, person_id)], refused)
        made = sorted(new)
        for person_id, conv in zip(made, ingest.new_conversations(
                [(found[p], channel.platform, threads[p]) for p in made])):
            known[(channel_id, person_id)] = conv
            new_people.append((channel_id, person_id))
        for person_id in sorted(set(found) - new):
            known[(channel_id, person_id)] = ingest.conversation_for(
                found[person_id], channel.platform, threads[person_id])
    return new_people


def _refuse(channel: Channel, person_id: str, records, refused: set) -> None:
    refused.add((channel.id, person_id))
    for event_id in sorted({row.id for row, _ in records}):
        audit.record(None, "refused", None, entity_type="channel_event", entity_id=event_id,
                     summary=f"A live DM on {channel.kind_label} “{channel.name}” from a "
                             "person erased at their request was refused")


def _ingest_messages(people_now, echoes, counts: dm_counts.Counts) -> None:
    """Every person's messages of a batch through the ingestion service in one call; then
    their attachments are queued for download and our sends linked to their echoes."""
    items, extra = [], []
    for channel, _, records, conv in people_now:
        dms = [r for _, r in records if isinstance(r, DM)]
        if not dms:
            continue
        incoming, ours = [], []
        for dm in dms:
            author_id = sender = None
            if dm.direction == OUTBOUND:
                mine = echoes.find(channel, dm)
                if mine is not None:
                    author_id = mine.author_id
                    ours.append(dm.external_id)
                else:
                    sender = f"{channel.name} (sent from the app)"
            incoming.append(ingest.IncomingMessage(
                dm.direction, dm.sent_at, dm.body, dm.media, external_id=dm.external_id,
                author_id=author_id, sender_name=sender))
        items.append((conv, incoming))
        extra.append((channel, {d.external_id: d.file for d in dms if d.file is not None},
                      ours))
    if not items:
        return
    results = ingest.ingest_many(None, items, source=ingest.LIVE, counts=counts)
    for result, (channel, files, ours) in zip(results, extra):
        for message in result.added:
            if message.external_id in files:
                media_row = media.attach(channel, message.id, files[message.external_id])
                if media_row is not None:
                    jobs.enqueue(MEDIA_JOB, media_row, subject=f"channel-media:{media_row}")
        for external_id in ours:
            _link_send(channel, result.conversation, external_id)


ERASED_BODY = b'{"entry": [], "erased": true}'


def _forget_refused(parsed, channels: dict, refused: set) -> None:
    """Events that only carried refused people's records keep nothing of them."""
    if not refused:
        return
    t = ChannelEvent.__table__
    for row, received_by, found in parsed:
        people_in = {(_route_among(channels, received_by, r.account).id, r.person_id)
                     for r in found.records}
        if people_in and people_in <= refused:
            db.session.execute(update(t).where(t.c.id == row.id).values(body=ERASED_BODY))


class _EchoSends:
    """Replies Rapport sent that a batch's echoes may be (read once for the batch)."""

    def __init__(self, echoes: list):
        self.by_id, self.sending = {}, []
        ids = [e.external_id for e in echoes]
        if not ids:
            return
        for send in db.session.scalars(select(OutboundSend).where(
                or_(OutboundSend.external_id.in_(ids), OutboundSend.status == SENDING))):
            if send.external_id in ids:
                self.by_id[(send.channel_id, send.external_id)] = send
            if send.status == SENDING:
                self.sending.append(send)

    def find(self, channel: Channel, dm: DM) -> OutboundSend | None:
        """As `_our_send_for_echo`: by message id, by what we attached, by what we wrote."""
        found = self.by_id.get((channel.id, dm.external_id))
        if found is not None:
            return found
        if dm.metadata and dm.metadata.startswith("rapport-send:"):
            wanted = int(dm.metadata.split(":", 1)[1] or 0)
            found = next((s for s in self.sending if s.id == wanted), None) or \
                db.session.get(OutboundSend, wanted)
            if found is not None and found.channel_id == channel.id:
                return found
        return next((s for s in self.sending if s.channel_id == channel.id
                     and s.status == SENDING and s.recipient_id == dm.person_id
                     and s.body == dm.body), None)


def apply_one(event_id: int, *, on_new_people=None) -> int | None:
    """Claim one event and apply it in a transaction of its own, committing: 1 when
    applied, 0 when it failed or waits for a retry, None when another worker had it."""
    try:
        row = db.session.execute(
            select(ChannelEvent.id, ChannelEvent.channel_id, ChannelEvent.body,
                   ChannelEvent.attempts).where(ChannelEvent.id == event_id,
                                                ChannelEvent.status == PENDING)).first()
        claimed = row is not None and db.session.execute(
            update(ChannelEvent).where(ChannelEvent.id == event_id,
                                       ChannelEvent.status == PENDING)
            .values(status=DONE, processed_at=utcnow())).rowcount
        if not claimed:
            db.session.rollback()
            return None
        _done, waiting, new_people = _apply_records([row])
        if waiting:
            raise ReceiptsWaiting(f"event {event_id}: a receipt for a message not stored yet")
        db.session.commit()
    except ReceiptsWaiting:
        db.session.rollback()
        db.session.execute(update(ChannelEvent).where(ChannelEvent.id == event_id).values(
            attempts=ChannelEvent.attempts + 1,
            retry_at=utcnow() + timedelta(seconds=2)))
        db.session.commit()
        return 0
    except ServiceError as e:
        db.session.rollback()
        mark_failed(event_id, e.message)
        db.session.commit()
        return 0
    except OperationalError:
        # A lock or a deadlock is not the event's fault: it is tried again a little later,
        # and given up (failed, said in the admin log) if the database keeps refusing it.
        db.session.rollback()
        log.warning("channel event %s will be tried again", event_id, exc_info=True)
        retry_later(event_id)
        return 0
    except Exception as e:
        db.session.rollback()
        log.exception("channel event %s could not be applied", event_id)
        mark_failed(event_id, f"Could not be applied ({type(e).__name__}); see the log.")
        db.session.commit()
        return 0
    _tell_new_people(new_people, on_new_people)
    return 1


def retry_later(event_id: int) -> None:
    """Count a try that the database refused: the event waits 2, 4, 8… seconds before the
    next, and fails after MAX_ATTEMPTS, so an error that does not pass cannot keep the
    drain busy for ever. Commits; should the database refuse even that, its error is raised
    and the drain ends (the periodic sweep comes back to the event)."""
    row = db.session.execute(select(ChannelEvent.attempts).where(
        ChannelEvent.id == event_id, ChannelEvent.status == PENDING)).first()
    if row is None:
        db.session.rollback()
        return
    attempts = row.attempts + 1
    db.session.execute(update(ChannelEvent).where(ChannelEvent.id == event_id).values(
        attempts=attempts, retry_at=utcnow() + timedelta(seconds=2 ** attempts)))
    if attempts >= MAX_ATTEMPTS:
        mark_failed(event_id, f"Could not be stored after {attempts} tries: the database "
                              "refused it each time; see the worker's log.")
    db.session.commit()


def mark_failed(event_id: int, reason: str) -> None:
    event = db.session.get(ChannelEvent, event_id)
    if event is not None and event.status == PENDING:
        event.status, event.error, event.processed_at = FAILED, reason[:500], utcnow()


def _conversations(channels: dict, keys: list) -> dict:
    """The conversation of each (channel id, person id) of a batch that has one, on the
    contact now holding their scoped id, in one query (the contacts come with it; their
    tags and handles only when used)."""
    threads = {people.thread_id(channels[c], p): (c, p) for c, p in keys}
    if not threads:
        return {}
    found = {}
    rows = db.session.execute(
        select(Conversation, SocialHandle.platform, SocialHandle.account_id)
        .join(SocialHandle, SocialHandle.contact_id == Conversation.contact_id)
        .where(Conversation.external_thread_id.in_(list(threads)))
        .options(joinedload(Conversation.contact).lazyload(Contact.tags),
                 joinedload(Conversation.contact).lazyload(Contact.handles))).all()
    for conv, platform, account_id in rows:
        key = threads[conv.external_thread_id]
        channel = channels[key[0]]
        if platform == channel.platform == conv.platform and account_id == key[1]:
            found[key] = conv
    return found


def _mark_deleted(conv: Conversation, record: Deleted) -> None:
    """Through the ingestion service (a delete before its message is kept for it; the
    message's file goes too)."""
    ingest.mark_deleted(conv, record.external_id, direction=record.direction, at=record.at)


def _link_send(channel: Channel, conv: Conversation, external_id: str) -> None:
    send = db.session.scalar(select(OutboundSend).where(
        OutboundSend.channel_id == channel.id, OutboundSend.external_id == external_id))
    if send is not None and send.message_id is None:
        send.message_id = db.session.scalar(select(Message.id).where(
            Message.conversation_id == conv.id, Message.external_id == external_id))


def _apply_receipt(channel: Channel, receipt: Receipt, conv: Conversation | None) -> bool:
    """Move our sent messages' status forward in the person's conversation `conv`; False
    when a named message is not stored."""
    if conv is None:
        return not receipt.external_ids
    ids = list(receipt.external_ids)
    if receipt.watermark is not None:
        # Messenger: everything we sent up to the watermark was delivered / read.
        ids += db.session.scalars(select(Message.external_id).where(
            Message.conversation_id == conv.id, Message.direction == OUTBOUND,
            Message.external_id.is_not(None), Message.sent_at <= receipt.watermark,
            Message.delivery_status.is_distinct_from(receipt.status))).all()
    applied = True
    for external_id in dict.fromkeys(ids):
        if not ingest.update_status(conv, external_id, receipt.status, receipt.error):
            # Perhaps our send job or another worker is storing it right now; after the
            # last try, a receipt for a message Rapport never saw is dropped.
            applied = applied and external_id not in receipt.external_ids
    return applied
