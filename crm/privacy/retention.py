"""How long closed conversations and archived contacts are kept (off by default), and the
daily job that erases what is past it, through the same path as an erasure request (without
suppressing anyone: they may come back).

Consent evidence has its own period (consent_evidence_days): the message that proved an
opt-out stays readable, and exportable, for that long, and an archived contact whose consent
changed within it is kept until it has passed.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import exists, func, select

from crm.audit import services as audit
from crm.contacts.models import ConsentEvent, Contact
from crm.conversations.models import CLOSED, Conversation
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.privacy import services as erasing
from crm.privacy.models import RETENTION
from crm.settings import services as settings

BATCH = 200
MAX_DAYS = 36500


def limits() -> dict:
    return {"conversations": settings.get("retention_closed_conversation_days"),
            "contacts": settings.get("retention_archived_contact_days"),
            "consent_evidence": settings.get("consent_evidence_days")}


def _days(value, field: str, *, allow_off: bool = True):
    if value in (None, "") and allow_off:
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("Give a whole number of days.", field=field) from None
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed(f"Between 1 and {MAX_DAYS:,} days.", field=field)
    return days


def save_limits(actor, *, conversations, contacts, consent_evidence) -> dict:
    """Set the retention limits (None: keep forever); audited."""
    new = {"conversations": _days(conversations, "conversations"),
           "contacts": _days(contacts, "contacts"),
           "consent_evidence": _days(consent_evidence, "consent_evidence", allow_off=False)}
    before = limits()
    changes = {k: [before[k], new[k]] for k in new if before[k] != new[k]}
    if changes:
        settings.put("retention_closed_conversation_days", new["conversations"])
        settings.put("retention_archived_contact_days", new["contacts"])
        settings.put("consent_evidence_days", new["consent_evidence"])
        audit.record(actor, "settings", None, entity_type="setting", summary="Retention changed",
                     changes=changes)
    return changes


def _evidence_kept(cutoff) -> set[int]:
    """Messages that prove a consent change made after `cutoff`."""
    return set(db.session.scalars(select(ConsentEvent.evidence_message_id).where(
        ConsentEvent.at >= cutoff, ConsentEvent.evidence_message_id.is_not(None))))


def due_conversations(now=None) -> list[int]:
    days = limits()["conversations"]
    if not days:
        return []
    cutoff = (now or utcnow()) - timedelta(days=int(days))
    ended = func.coalesce(Conversation.closed_at, Conversation.last_message_at,
                          Conversation.created_at)
    return list(db.session.scalars(select(Conversation.id).where(
        Conversation.state == CLOSED, Conversation.erased_at.is_(None), ended < cutoff)
        .order_by(Conversation.id)))


def due_contacts(now=None) -> list[int]:
    days = limits()["contacts"]
    if not days:
        return []
    now = now or utcnow()
    cutoff = now - timedelta(days=int(days))
    evidence_cutoff = now - timedelta(days=int(limits()["consent_evidence"]))
    recent_consent = exists().where(ConsentEvent.contact_id == Contact.id,
                                    ConsentEvent.at >= evidence_cutoff)
    return list(db.session.scalars(select(Contact.id).where(
        Contact.archived_at.is_not(None), Contact.archived_at < cutoff,
        Contact.erased_at.is_(None), ~recent_consent).order_by(Contact.id)))


def apply(now=None) -> dict:
    """Erase what is past the limits, committing every BATCH; returns what went."""
    now = now or utcnow()
    report = {"contacts": 0, "conversations": 0, "messages": 0}
    for start_ids in _batches(due_contacts(now)):
        for contact in db.session.scalars(select(Contact).where(Contact.id.in_(start_ids))):
            erasure = erasing.erase(None, contact, "Archived longer than the retention limit",
                                    source=RETENTION)
            report["contacts"] += 1
            report["messages"] += erasure.removed.get("messages", 0)
        db.session.commit()
    evidence_days = int(limits()["consent_evidence"])
    keep = _evidence_kept(now - timedelta(days=evidence_days))
    for ids in _batches(due_conversations(now)):
        conversations = list(db.session.scalars(select(Conversation).where(
            Conversation.id.in_(ids))))
        report["messages"] += erasing.erase_conversations(conversations, keep_message_ids=keep,
                                                          now=now)
        report["conversations"] += len(conversations)
        db.session.commit()
    if report["contacts"] or report["conversations"]:
        audit.record(None, "retention", None, entity_type="setting",
                     summary=f"Retention: {summary(report)}", changes=report)
    return report


def _batches(ids: list[int]):
    for start in range(0, len(ids), BATCH):
        yield ids[start:start + BATCH]


def summary(report: dict) -> str:
    c, v, m = report["contacts"], report["conversations"], report["messages"]
    return (f"{c:,} archived contact{'s' if c != 1 else ''} and {v:,} closed "
            f"conversation{'s' if v != 1 else ''} erased ({m:,} messages)")
