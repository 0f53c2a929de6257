"""Writing audit events; callers flush/commit with their own change."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import inspect

from crm.audit.models import AuditEvent
from crm.extensions import db


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def changes_of(obj, fields=None) -> dict:
    """{field: [old, new]} for the column attributes changed on `obj` in this session."""
    state = inspect(obj)
    out = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        if fields is not None and key not in fields:
            continue
        if key in ("updated_at", "version", "search_text"):
            continue
        hist = state.attrs[key].history
        if hist.has_changes():
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                out[key] = [_plain(old), _plain(new)]
    return out


def _contact_of(entity) -> int | None:
    """The contact a record belongs to: itself, or the contact (or conversation) it names."""
    if entity.__tablename__ == "contacts":
        return entity.id
    if getattr(entity, "contact_id", None) is not None:
        return entity.contact_id
    return getattr(getattr(entity, "conversation", None), "contact_id", None)


def record(actor, action: str, entity, summary: str = "", changes: dict | None = None,
           entity_type: str | None = None, entity_id: int | None = None,
           at: datetime | None = None, on_timeline: bool = True) -> AuditEvent:
    """Add an audit event for `entity` (a model instance, or type/id given explicitly). An
    event about a contact or a record of theirs is on the contact's timeline, unless
    `on_timeline` is False (the record itself stands there for it)."""
    contact_id = entity_id if entity is None and entity_type == "contact" else None
    if entity is not None:
        entity_type = entity_type or entity.__tablename__.rstrip("s")
        if entity_id is None:
            db.session.flush()
            entity_id = entity.id
        contact_id = _contact_of(entity)
    if not on_timeline:
        contact_id = None
    event = AuditEvent(
        contact_id=contact_id,
        actor_id=getattr(actor, "id", None),
        action=action,
        entity_type=entity_type or "unknown",
        entity_id=entity_id,
        summary=summary[:255],
        changes={k: _plain(v) for k, v in (changes or {}).items()},
    )
    if at is not None:
        event.at = at
    db.session.add(event)
    return event
