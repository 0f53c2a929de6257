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


def record(actor, action: str, entity, summary: str = "", changes: dict | None = None,
           entity_type: str | None = None, entity_id: int | None = None,
           at: datetime | None = None) -> AuditEvent:
    """Add an audit event for `entity` (a model instance, or type/id given explicitly)."""
    if entity is not None:
        entity_type = entity_type or entity.__tablename__.rstrip("s")
        if entity_id is None:
            db.session.flush()
            entity_id = entity.id
    event = AuditEvent(
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
