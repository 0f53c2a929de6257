"""Keyset cursors for lists ordered by (a timestamp, id): "2026-11-22T09:00:00~123"."""
from datetime import datetime


def make_cursor(at: datetime, ident: int) -> str:
    return f"{at.isoformat()}~{ident}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    """The (timestamp, id) a cursor names, or None for a missing or malformed one."""
    try:
        when, ident = (value or "").rsplit("~", 1)
        return datetime.fromisoformat(when), int(ident)
    except ValueError:
        return None
