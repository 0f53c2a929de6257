"""Replying from Rapport through a channel: consent gate, reply window, then the Send API
(as a job); the sent message is stored by the ingestion service, once, echo or not."""
from sqlalchemy import select

from crm.audit import services as audit
from crm.channels import graph, people, services
from crm.channels.models import (FAILED, SENDING, SENT, WHATSAPP, Channel, OutboundSend,
                                 WhatsAppTemplate)
from crm.channels.window import HUMAN, TEMPLATE, Window, reply_window
from crm.contacts import consent
from crm.conversations import ingest
from crm.conversations.models import OUTBOUND, Conversation, Message
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db

MAX_TEXT = {"instagram": 1000, "messenger": 2000, "whatsapp": 4096}


def channel_of(conv: Conversation) -> tuple[Channel, str] | None:
    """The live channel a conversation came through, and the person's id there."""
    found = people.thread_of(conv.external_thread_id)
    channel = db.session.get(Channel, found[0]) if found else None
    return (channel, found[1]) if channel is not None else None


def window_for(conv: Conversation, channel: Channel, now=None) -> Window:
    """Whether and how we may message this person now (shown before typing)."""
    verdict = consent.may_contact(conv.contact)
    if channel.needs_reconnecting:
        return Window(None, f"“{channel.name}” needs reconnecting: an admin must paste a new "
                            "access token before replies can be sent.")
    return reply_window(channel.kind, last_inbound_at=conv.last_inbound_at,
                        now=now or utcnow(), human_agent=channel.human_agent,
                        may_contact=verdict.allowed,
                        refusal=f"Opted out — no outreach. {verdict.reason}".strip())


def queue_reply(actor, conv: Conversation, *, body: str = "", template_id=None,
                template_params=()) -> OutboundSend:
    """Check consent and the window, then keep the reply as "sending" for the send job."""
    found = channel_of(conv)
    if found is None:
        raise ValidationFailed("This conversation did not come through a connected channel.")
    channel, person_id = found
    consent.require_may_contact(conv.contact, action="outbound DM")
    window = window_for(conv, channel)
    if not window.open:
        raise ValidationFailed(window.message, field="body")
    body = ingest.clean_body(body)
    template = None
    if window.mode == TEMPLATE or template_id:
        if channel.kind != WHATSAPP:
            raise ValidationFailed("Templates are for WhatsApp channels.", field="template_id")
        template = db.session.get(WhatsAppTemplate, int(template_id or 0))
        if template is None or template.channel_id != channel.id:
            raise ValidationFailed("Choose one of this number's approved templates.",
                                   field="template_id")
        params = [str(p).strip() for p in template_params][:template.variables]
        body = services.fill_template(template, params)
    else:
        params = None
        if not body:
            raise ValidationFailed("Write the reply.", field="body")
        limit = MAX_TEXT[channel.kind]
        if len(body) > limit:
            raise ValidationFailed(f"{channel.kind_label} takes at most {limit:,} characters "
                                   f"in a message; this one has {len(body):,}.", field="body")
    send = OutboundSend(channel_id=channel.id, conversation_id=conv.id, author_id=actor.id,
                        recipient_id=person_id, body=body, status=SENDING,
                        mode=window.mode, template_id=template.id if template else None,
                        template_params=params)
    db.session.add(send)
    db.session.flush()
    audit.record(actor, "create", send, summary=f"Reply to {conv.contact.name} queued on "
                                                f"{channel.kind_label}")
    return send


def deliver(send_id: int) -> OutboundSend | None:
    """The send job: call the Send API once; store the sent message, or the reason it failed.
    A send that is no longer "sending" (done, or failed) is left alone: a rerun sends nothing."""
    send = db.session.get(OutboundSend, send_id)
    if send is None or send.status != SENDING:
        return send
    channel, conv = send.channel, db.session.get(Conversation, send.conversation_id)
    verdict = consent.may_contact(conv.contact)
    if not verdict.allowed:
        return _failed(send, f"Not sent: {verdict.reason}")
    try:
        if send.mode == TEMPLATE:
            template = send.template
            if template is None:
                return _failed(send, "Not sent: the template was removed.")
            mid = graph.send_template(channel, send.recipient_id, template.name,
                                      template.language, send.template_params or [])
        else:
            mid = graph.send_text(channel, send.recipient_id, send.body,
                                  human_agent=send.mode == HUMAN,
                                  metadata=f"rapport-send:{send.id}")
    except graph.GraphError as e:
        if e.token_revoked:
            services.mark_needs_reconnecting(channel, e.message)
        return _failed(send, e.words)
    send.status, send.external_id, send.error = SENT, mid, None
    # The consent gate ran above, before the platform was called; what it sent is a record.
    result = ingest.ingest(None, conv, [ingest.IncomingMessage(
        OUTBOUND, utcnow(), send.body, external_id=mid, author_id=send.author_id,
        logged_by_id=send.author_id, written_in_rapport=False)], source=ingest.LIVE)
    send.message_id = result.added[0].id if result.added else db.session.scalar(
        select(Message.id).where(Message.conversation_id == conv.id,
                                 Message.external_id == mid))
    ingest.update_status(conv, mid, "sent")
    return send


def _failed(send: OutboundSend, reason: str) -> OutboundSend:
    send.status, send.error = FAILED, reason[:500]
    return send


def pending_for(conv: Conversation) -> list[OutboundSend]:
    """Replies still sending, or refused by the platform: shown under the conversation."""
    return list(db.session.scalars(select(OutboundSend).where(
        OutboundSend.conversation_id == conv.id, OutboundSend.status.in_((SENDING, FAILED)))
        .order_by(OutboundSend.created_at)))
