"""Cursor pages: each list hands out its own keyset cursor (the same one its page uses),
signed for the list and the filters it was made for, so a cursor that was changed, or used
with other filters, answers 400 instead of a wrong page."""
from flask import request, url_for

from crm.core.keyset import read_signed_cursor, sign_cursor

NOT_FILTERS = ("cursor", "limit")


def _scope() -> str:
    filters = sorted((k, v) for k, v in request.args.items(multi=True) if k not in NOT_FILTERS)
    path = sorted((request.view_args or {}).items())
    return repr((request.endpoint, path, filters))


def cursor_from(args: dict):
    """The list's own cursor carried by the request's `cursor` (None: the first page)."""
    token = args.get("cursor")
    return read_signed_cursor(token, _scope()) if token else None


def page(rows, next_cursor) -> dict:
    """The answer: the rows and the link to the next page (None on the last)."""
    link = None
    if next_cursor is not None:
        args = {k: v for k, v in request.args.items() if k != "cursor"}
        link = url_for(request.endpoint, **(request.view_args or {}), **args,
                       cursor=sign_cursor(next_cursor, _scope()), _external=True)
    return {"data": rows, "next": link}
