"""Keyset cursors for lists ordered by (a timestamp, id): "2026-11-22T09:00:00~123"; and
signed cursors for cursors handed to other programs (the API), which refuse tampering."""
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer


def make_cursor(at: datetime, ident: int) -> str:
    return f"{at.isoformat()}~{ident}"


def parse_cursor(value: str | None) -> tuple[datetime, int] | None:
    """The (timestamp, id) a cursor names, or None for a missing or malformed one."""
    try:
        when, ident = (value or "").rsplit("~", 1)
        return datetime.fromisoformat(when), int(ident)
    except ValueError:
        return None


class BadCursor(ValueError):
    """A signed cursor that was changed, or made for another list or other filters."""


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="rapport.keyset")


def sign_cursor(value, scope: str) -> str:
    """`value` (a list's own cursor) as an opaque token valid only for `scope` (the list and
    its filters)."""
    return _signer().dumps([scope, value])


def read_signed_cursor(token: str, scope: str):
    """The value a signed cursor carries; BadCursor when it was tampered with or belongs to
    another list or other filters."""
    try:
        signed_scope, value = _signer().loads(token)
    except (BadSignature, TypeError, ValueError):
        raise BadCursor("The cursor is not one this list gave out (or it was changed).") \
            from None
    if signed_scope != scope:
        raise BadCursor("The cursor belongs to another list or to other filters.")
    return value
