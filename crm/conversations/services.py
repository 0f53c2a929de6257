"""Conversation rules: logging messages, correcting them, reply state, the consent gate."""
from datetime import datetime, timedelta

from sqlalchemy import func, select

from crm import policy
from crm.audit import services as audit
from crm.contacts import consent
from crm.contacts.models import PLATFORM_LABELS, PLATFORMS, ConsentEvent, Contact
from crm.conversations import ingest, optout
from crm.conversations.models import INBOUND, NEEDS_REPLY, OUTBOUND, Conversation, Message
from crm.conversations.reply_state import close, rebuild_reply_state
from crm.core.cache import remember
from crm.core.errors import ValidationFailed
from crm.core.plans import inline
from crm.core.timeutil import humanize_duration, local, utcnow
from crm.dm_templates.models import DMTemplate
from crm.extensions import db
from crm.settings import services as settings

__all__ = ["needs_reply_count", "get_or_create_conversation", "log_message", "outreach_warnings",
           "rebuild_reply_state", "edit_message", "delete_message", "close_conversation",
           "reopen_conversation", "record_opt_out", "dismiss_opt_out", "flag_if_opt_out",
           "check_may_send", "SNOOZES", "snooze_conversation", "wake_snoozed"]

NAV_COUNT_CAP = 99
MAX_BODY = ingest.MAX_BODY


def needs_reply_count(user, cap: int = NAV_COUNT_CAP) -> int:
    """How many visible conversations wait on us, counted up to `cap`+1 (bounded cost).
    Remembered until a conversation or a contact's owner or archiving changes
    (crm.core.cache), so the badge every page shows costs a count only after a change."""
    def count() -> int:
        inner = (select(Conversation.id).join(Contact, Contact.id == Conversation.contact_id)
                 .where(Conversation.state == NEEDS_REPLY, Contact.archived_at.is_(None),
                        policy.contact_scope(user))
                 .limit(inline(cap + 1)).subquery())
        return db.session.scalar(select(func.count()).select_from(inner))

    return remember("needs_reply_count", (policy.scope_key(user), cap), count,
                    ("conversations", "contacts"))


def get_or_create_conversation(contact, platform: str, external_thread_id: str = "",
                               title: str | None = None, is_group: bool = False) -> Conversation:
    """The contact's conversation on `platform` with that thread id, created when missing."""
    return ingest.conversation_for(contact, platform, external_thread_id, title=title,
                                   is_group=is_group)


def _conversation_for(contact, platform: str) -> Conversation:
    """Where a hand-logged DM goes: the contact's latest one-to-one thread on that platform."""
    conv = db.session.scalars(
        select(Conversation)
        .where(Conversation.contact_id == contact.id, Conversation.platform == platform,
               Conversation.is_group.is_(False))
        .order_by(func.coalesce(Conversation.last_message_at, Conversation.created_at).desc(),
                  Conversation.id.desc())
        .limit(1)).first()
    return conv or get_or_create_conversation(contact, platform)


def check_may_send(contact) -> None:
    """The consent gate for an outbound DM: raises OutreachRefused naming reason and date."""
    consent.require_may_contact(contact, action="outbound DM")


def log_message(actor, contact, *, platform, direction, body, sent_at=None, media=None,
                template_id=None, conversation=None) -> Message:
    """Log one DM by hand. Outbound DMs pass the consent gate before anything is written."""
    incoming = ingest.IncomingMessage(
        direction, sent_at, ingest.clean_body(body), media or None, template_id=template_id,
        logged_by_id=actor.id, author_id=actor.id if direction == OUTBOUND else None,
        written_in_rapport=True)
    ingest.check(incoming)
    if direction == OUTBOUND:
        check_may_send(contact)
    elif template_id:
        raise ValidationFailed("Only a sent message can come from a template.",
                               field="template_id")
    if template_id is not None:
        if db.session.get(DMTemplate, template_id) is None:
            raise ValidationFailed("That template does not exist.", field="template_id")
    if conversation is not None:
        if conversation.contact_id != contact.id:
            raise ValidationFailed("That conversation belongs to someone else.",
                                   field="conversation_id")
    elif platform not in PLATFORMS:
        raise ValidationFailed("Choose the platform the message was on.", field="platform")
    conv = conversation or _conversation_for(contact, platform)
    message = ingest.ingest(actor, conv, [incoming], source=ingest.HAND).added[0]
    word = "Sent" if direction == OUTBOUND else "Received"
    # The message itself is on the contact's timeline, as every DM is, however it came.
    audit.record(actor, "create", message,
                 summary=f"{word} {PLATFORM_LABELS.get(conv.platform, conv.platform)} DM "
                         f"logged for {contact.name}", on_timeline=False)
    return message


def _when(at: datetime, tz_name: str | None) -> str:
    ago = humanize_duration((utcnow() - at).total_seconds())
    return f"{ago} ago ({local(at, tz_name):%d %b %Y, %H:%M})"


def _who(message: Message) -> str:
    if message.author is not None:
        return message.author.name
    return message.sender_name or "Someone on the team"


def outreach_warnings(contact, template_id=None, *, tz_name: str | None = None) -> list[str]:
    """Reasons to think twice before another unsolicited DM (shown, never blocking). An answer
    to someone whose message is the latest we have from or to them is never a duplicate."""
    warnings = []
    days = int(settings.get("duplicate_window_days") or 0)
    theirs = (select(Message).join(Conversation, Conversation.id == Message.conversation_id)
              .where(Conversation.contact_id == contact.id, Message.deleted_at.is_(None)))
    latest = db.session.scalar(
        theirs.with_only_columns(Message.direction)
        .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1))
    if latest == INBOUND:
        return warnings
    base = theirs.where(Message.direction == OUTBOUND)
    if days > 0:
        recent = db.session.scalars(
            base.where(Message.sent_at >= utcnow() - timedelta(days=days))
            .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)).first()
        if recent is not None:
            platform = PLATFORM_LABELS.get(recent.conversation.platform, "")
            warnings.append(f"{_who(recent)} already messaged {contact.name} on {platform} "
                            f"{_when(recent.sent_at, tz_name)}.")
    if template_id:
        same = db.session.scalars(
            base.where(Message.template_id == template_id)
            .order_by(Message.sent_at.desc(), Message.id.desc()).limit(1)).first()
        if same is not None:
            name = same.template.name if same.template else "this template"
            warnings.append(f"{contact.name} already got “{name}” from {_who(same)} "
                            f"{_when(same.sent_at, tz_name)}.")
    return warnings


def edit_message(actor, message: Message, *, body, direction, sent_at, media=None) -> Message:
    """Correct a logged message; the reply state of its conversation is recomputed."""
    if not policy.can_edit_message(actor, message):
        raise ValidationFailed("You can only correct messages you logged.")
    conv = message.conversation
    if direction == OUTBOUND and message.direction != OUTBOUND:
        ingest.check(ingest.IncomingMessage(direction, sent_at or message.sent_at,
                                            ingest.clean_body(body), media or None))
        check_may_send(conv.contact)
    contact_name = conv.contact.name
    changes = ingest.correct(message, body=body, direction=direction, sent_at=sent_at,
                             media=media, author_id=message.logged_by_id or actor.id)
    if changes:
        audit.record(actor, "update", message, summary=f"DM with {contact_name} corrected",
                     changes=changes)
    return message


def delete_message(actor, message: Message) -> None:
    """Delete a logged message (audited); consent evidence is kept."""
    if not policy.can_edit_message(actor, message):
        raise ValidationFailed("You can only delete messages you logged.")
    conv = message.conversation
    evidence = db.session.scalar(
        select(ConsentEvent.id).where(ConsentEvent.contact_id == conv.contact_id,
                                      ConsentEvent.evidence_message_id == message.id).limit(1))
    if evidence is not None:
        raise ValidationFailed("This message is the evidence for a consent change and is kept.")
    audit.record(actor, "delete", message, summary=f"DM with {conv.contact.name} deleted",
                 changes={k: [v, None] for k, v in ingest.audit_values(message).items()})
    ingest.delete(message)


def close_conversation(actor, conv: Conversation) -> None:
    """No reply needed: leaves the inbox until the next message."""
    close(conv, max(utcnow(), conv.last_message_at or utcnow()))
    conv.snoozed_until = None
    audit.record(actor, "close", conv, summary=f"Conversation with {conv.contact.name} closed")


SNOOZES = {"4h": ("4 hours", timedelta(hours=4)), "1d": ("1 day", timedelta(days=1)),
           "3d": ("3 days", timedelta(days=3)), "1w": ("1 week", timedelta(weeks=1))}


def snooze_conversation(actor, conv: Conversation, choice: str) -> datetime:
    """Out of the inbox for a while: closed until then (or until they write, if sooner),
    when the wake-up job puts it back as its messages say."""
    if choice not in SNOOZES:
        raise ValidationFailed("Snooze for 4 hours, 1 day, 3 days or 1 week.", field="snooze")
    label, length = SNOOZES[choice]
    now = utcnow()
    close(conv, max(now, conv.last_message_at or now))
    conv.snoozed_until = now + length
    audit.record(actor, "snooze", conv,
                 summary=f"Conversation with {conv.contact.name} snoozed for {label}")
    return conv.snoozed_until


def wake_snoozed(now: datetime | None = None) -> int:
    """Snoozed conversations whose time has come follow their messages again."""
    now = now or utcnow()
    convs = db.session.scalars(select(Conversation).where(
        Conversation.snoozed_until.is_not(None), Conversation.snoozed_until <= now)).all()
    for conv in convs:
        conv.snoozed_until = None
        conv.closed_at = None
    rebuild_reply_state([c.id for c in convs])
    return len(convs)


def reopen_conversation(actor, conv: Conversation) -> None:
    """Undo a close: the state follows the latest message again."""
    conv.closed_at = None
    conv.snoozed_until = None
    db.session.flush()
    rebuild_reply_state([conv.id])
    audit.record(actor, "update", conv, summary=f"Conversation with {conv.contact.name} reopened")


def flag_if_opt_out(conv: Conversation, message: Message, phrases=None):
    """Flag the conversation when an inbound message reads like an opt-out; returns the match."""
    if message.direction != INBOUND:
        return None
    return ingest.flag_opt_out(conv, [message], phrases)


def opt_out_quote(message: Message) -> str:
    """The words that read like an opt-out, as the contact wrote them."""
    match = optout.find_stop_phrase(message.body, settings.get("stop_phrases"))
    text = match.text if match else " ".join(message.body.split())
    return text if len(text) <= 60 else text[:59] + "…"


def record_opt_out(actor, conv: Conversation):
    """One click: opt the contact out, with the flagged message as evidence."""
    message = db.session.get(Message, conv.opt_out_message_id or 0)
    if message is None or message.conversation_id != conv.id:
        raise ValidationFailed("There is no opt-out message to act on.")
    platform = PLATFORM_LABELS.get(conv.platform, conv.platform)
    event = consent.change_consent(
        actor, conv.contact, status="opted_out",
        source=f"Replied “{opt_out_quote(message)}” in {platform} DM",
        evidence_message_id=message.id)
    conv.opt_out_message_id = None
    # Nobody may answer them now, so the conversation leaves the inbox.
    close(conv, max(utcnow(), conv.last_message_at or utcnow()))
    return event


def dismiss_opt_out(actor, conv: Conversation) -> None:
    """Not an opt-out after all: drop the flag."""
    if conv.opt_out_message_id is not None:
        audit.record(actor, "update", conv,
                     summary=f"Opt-out flag dismissed for {conv.contact.name}",
                     changes={"opt_out_message_id": [conv.opt_out_message_id, None]})
        conv.opt_out_message_id = None
