"""What the worker does with a stored event: messages through the one ingestion service,
receipts onto our sent messages, new senders into contacts."""
import json
import logging
import time
from datetime import timedelta

from sqlalchemy import or_, select, update

from crm import jobs
from crm.channels import events, media, people
from crm.channels.events import DM, Deleted, Receipt
from crm.channels.models import (DONE, FAILED, PENDING, SENDING, WHATSAPP, Channel,
                                 ChannelEvent, OutboundSend)
from crm.conversations import ingest
from crm.conversations.models import OUTBOUND, Conversation, Message
from crm.core.errors import ServiceError
from crm.core.timeutil import utcnow
from crm.extensions import db

log = logging.getLogger(__name__)


BATCH = 200
MEDIA_JOB = "channels.media"   # crm.channels.jobs
MAX_ATTEMPTS = 5


class ReceiptsWaiting(Exception):
    """A receipt names a message we have not stored yet (its Send API answer is on the way)."""


def drain(*, on_new_people=None, idle_wait: float = 10.0) -> int:
    """Process pending events, oldest first, until none is left (the worker's job). Each
    event is claimed and applied in one transaction, so several workers can drain at once
    and a crash leaves the event pending. Returns how many events were applied."""
    applied = 0
    while True:
        now = utcnow()
        ids = db.session.scalars(
            select(ChannelEvent.id).where(ChannelEvent.status == PENDING,
                                          or_(ChannelEvent.retry_at.is_(None),
                                              ChannelEvent.retry_at <= now))
            .order_by(ChannelEvent.id).limit(BATCH)).all()
        db.session.rollback()
        if not ids:
            later = db.session.scalar(select(ChannelEvent.retry_at).where(
                ChannelEvent.status == PENDING).order_by(ChannelEvent.retry_at).limit(1))
            db.session.rollback()
            if later is None or (later - now).total_seconds() > idle_wait:
                return applied
            time.sleep(max(0.05, (later - now).total_seconds()))
            continue
        for event_id in ids:
            done = apply_one(event_id, on_new_people=on_new_people)
            if done is None:
                # Another worker is draining the same events: it goes on, this one stops
                # (on SQLite two would only take turns at the one write lock).
                return applied
            applied += done
    return applied


def apply_one(event_id: int, *, on_new_people=None) -> int | None:
    """Claim one event and apply it, committing: 1 when applied, 0 when it failed or waits
    for a retry, None when another worker had it first."""
    try:
        claimed = db.session.execute(
            update(ChannelEvent).where(ChannelEvent.id == event_id,
                                       ChannelEvent.status == PENDING)
            .values(status=DONE, processed_at=utcnow())).rowcount
        if not claimed:
            db.session.rollback()
            return None
        event = db.session.get(ChannelEvent, event_id)
        new_people = process_event(event_id, last_try=event.attempts + 1 >= MAX_ATTEMPTS,
                                   claimed=True)
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
    except Exception as e:
        db.session.rollback()
        log.exception("channel event %s could not be applied", event_id)
        mark_failed(event_id, f"Could not be applied ({type(e).__name__}); see the log.")
        db.session.commit()
        return 0
    if new_people and on_new_people is not None:
        by_channel = {}
        for channel_id, person_id in new_people:
            by_channel.setdefault(channel_id, []).append(person_id)
        for channel_id, person_ids in by_channel.items():
            on_new_people(channel_id, person_ids)
    return 1


def process_event(event_id: int, *, last_try: bool = False, claimed: bool = False) -> list:
    """Apply one stored event; returns (channel id, person id) of senders new to Rapport.
    Idempotent: Meta's retries and a rerun after a crash change nothing more."""
    event = db.session.get(ChannelEvent, event_id)
    if event is None or (event.status == DONE and not claimed):
        return []
    received_by = db.session.get(Channel, event.channel_id)
    parsed = events.parse(received_by.kind, json.loads(event.body))
    new_people, waiting = [], False
    routes = {}
    for record in parsed.records:
        channel = routes.get(record.account)
        if channel is None:
            channel = routes[record.account] = _route(received_by, record.account)
        if isinstance(record, DM):
            if _apply_dm(channel, record):
                new_people.append((channel.id, record.person_id))
        elif isinstance(record, Deleted):
            if _apply_deleted(channel, record):
                new_people.append((channel.id, record.person_id))
        elif isinstance(record, Receipt):
            waiting |= not _apply_receipt(channel, record)
    if waiting and not last_try:
        raise ReceiptsWaiting(f"event {event_id}: a receipt for a message not stored yet")
    event.status, event.processed_at = DONE, utcnow()
    return new_people


def _route(received_by: Channel, account: str | None) -> Channel:
    """The channel an entry is for: one Meta app (one callback URL) may serve several Pages,
    Instagram accounts or WhatsApp numbers, each connected as its own channel."""
    if not account or account in (received_by.account_id, received_by.phone_number_id):
        return received_by
    routing = (Channel.phone_number_id == account if received_by.kind == WHATSAPP
               else Channel.account_id == account)
    return db.session.scalar(select(Channel).where(Channel.kind == received_by.kind, routing)
                             .limit(1)) or received_by


def mark_failed(event_id: int, reason: str) -> None:
    event = db.session.get(ChannelEvent, event_id)
    if event is not None and event.status == PENDING:
        event.status, event.error, event.processed_at = FAILED, reason[:500], utcnow()


def _conversation(channel: Channel, person_id: str) -> Conversation | None:
    contact = people.by_scoped_id(channel.platform, person_id)
    if contact is None:
        return None
    return db.session.scalar(select(Conversation).where(
        Conversation.contact_id == contact.id, Conversation.platform == channel.platform,
        Conversation.external_thread_id == people.thread_id(channel, person_id)))


def _apply_dm(channel: Channel, dm: DM) -> bool:
    """Store one message (once); True when its sender is new to Rapport."""
    contact, new = people.sender_contact(channel, dm.person_id, dm.person_name)
    conv = ingest.conversation_for(contact, channel.platform,
                                   people.thread_id(channel, dm.person_id))
    author_id, sender = None, None
    if dm.direction == OUTBOUND:
        mine = _our_send_for_echo(channel, dm)
        if mine is not None:
            author_id = mine.author_id
        else:
            sender = f"{channel.name} (sent from the app)"
    result = ingest.ingest(None, conv, [ingest.IncomingMessage(
        dm.direction, dm.sent_at, dm.body, dm.media, external_id=dm.external_id,
        author_id=author_id, sender_name=sender)], source=ingest.LIVE)
    if dm.file is not None and result.added:
        media_row = media.attach(channel, result.added[0].id, dm.file)
        if media_row is not None:
            jobs.enqueue(MEDIA_JOB, media_row, subject=f"channel-media:{media_row}")
    if dm.direction == OUTBOUND:
        _link_send(channel, conv, dm.external_id)
    return new


def _apply_deleted(channel: Channel, record: Deleted) -> bool:
    """Mark the message deleted; a delete before its message is kept for when it comes
    (in the conversation it will land in, created now if need be). True when the sender
    is new to Rapport."""
    conv, new = _conversation(channel, record.person_id), False
    if conv is None:
        contact, new = people.sender_contact(channel, record.person_id, None)
        conv = ingest.conversation_for(contact, channel.platform,
                                       people.thread_id(channel, record.person_id))
    if ingest.mark_deleted(conv, record.external_id, direction=record.direction,
                           at=record.at) == ingest.MARKED:
        gone = db.session.scalar(select(Message.id).where(
            Message.conversation_id == conv.id, Message.external_id == record.external_id))
        media.forget(gone)
    return new


def _our_send_for_echo(channel: Channel, dm: DM) -> OutboundSend | None:
    """A reply Rapport is sending whose echo this is (the echo may come before the Send
    API's answer): by the message id once known, else by what we attached or wrote."""
    found = db.session.scalar(select(OutboundSend).where(
        OutboundSend.channel_id == channel.id, OutboundSend.external_id == dm.external_id))
    if found is not None:
        return found
    if dm.metadata and dm.metadata.startswith("rapport-send:"):
        found = db.session.get(OutboundSend, int(dm.metadata.split(":", 1)[1] or 0))
        if found is not None and found.channel_id == channel.id:
            return found
    return db.session.scalar(select(OutboundSend).where(
        OutboundSend.channel_id == channel.id, OutboundSend.status == SENDING,
        OutboundSend.recipient_id == dm.person_id, OutboundSend.body == dm.body)
        .order_by(OutboundSend.id).limit(1))


def _link_send(channel: Channel, conv: Conversation, external_id: str) -> None:
    send = db.session.scalar(select(OutboundSend).where(
        OutboundSend.channel_id == channel.id, OutboundSend.external_id == external_id))
    if send is not None and send.message_id is None:
        send.message_id = db.session.scalar(select(Message.id).where(
            Message.conversation_id == conv.id, Message.external_id == external_id))


def _apply_receipt(channel: Channel, receipt: Receipt) -> bool:
    """Move our sent messages' status forward; False when a named message is not stored."""
    conv = _conversation(channel, receipt.person_id)
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
