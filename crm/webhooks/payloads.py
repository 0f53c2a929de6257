"""The record each event carries as its `data`: plain JSON values, written when the event
happens (a retry sends the same document)."""
from __future__ import annotations

from datetime import date, datetime

from crm.extensions import db
from crm.pipeline.models import LostReason


def when(value: datetime | date | None) -> str | None:
    """UTC times as ISO 8601 with a Z; dates as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat()


def contact(c) -> dict:
    return {"id": c.id, "name": c.name, "kind": c.kind, "email": c.email, "phone": c.phone,
            "company": c.company, "owner_id": c.owner_id,
            "consent_status": c.consent_status, "do_not_contact": bool(c.do_not_contact),
            "handles": [{"platform": h.platform, "handle": h.handle} for h in c.handles],
            "created_at": when(c.created_at)}


def consent_change(c, event) -> dict:
    return {**contact(c), "consent_changed_at": when(c.consent_changed_at),
            "consent_source": event.source if event is not None else None}


def message(m, conv) -> dict:
    return {"id": m.id, "conversation_id": conv.id, "contact_id": conv.contact_id,
            "platform": conv.platform, "direction": "inbound" if m.direction == "in"
            else "outbound", "sent_at": when(m.sent_at), "body": m.body, "media": m.media,
            "external_id": m.external_id, "author_id": m.author_id}


def conversation(conv) -> dict:
    return {"id": conv.id, "contact_id": conv.contact_id, "platform": conv.platform,
            "state": conv.state, "waiting_since": when(conv.waiting_since),
            "last_inbound_at": when(conv.last_inbound_at),
            "last_message_preview": conv.last_message_preview,
            "message_count": conv.message_count}


def deal(d, from_stage=None) -> dict:
    out = {"id": d.id, "title": d.title, "contact_id": d.contact_id,
           "pipeline_id": d.pipeline_id, "owner_id": d.owner_id,
           "stage": {"id": d.stage.id, "name": d.stage.name},
           "outcome": d.outcome, "value_minor": d.value_minor, "currency": d.currency,
           "campaign_id": d.campaign_id, "closed_at": when(d.closed_at),
           "lost_reason": _lost_reason(d.lost_reason_id),
           "lost_note": d.lost_note, "version": d.version}
    if from_stage is not None:
        out["from_stage"] = {"id": from_stage.id, "name": from_stage.name}
    return out


def task(t) -> dict:
    return {"id": t.id, "title": t.title, "due_at": when(t.due_at), "status": t.status,
            "assignee_id": t.assignee_id, "contact_id": t.contact_id, "deal_id": t.deal_id,
            "is_outreach": bool(t.is_outreach), "auto": bool(t.auto), "notes": t.notes}


def _lost_reason(reason_id: int | None) -> str | None:
    reason = db.session.get(LostReason, reason_id) if reason_id else None
    return reason.name if reason else None
