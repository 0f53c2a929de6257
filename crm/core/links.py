"""Links. Row links are built once per page: `url_for` costs tens of microseconds a call, and
a list of 25 rows with two links each spent more on building URLs than on the rest of its
markup. A link to the outside world is made only from an http(s) URL (`http_url`)."""
import re
from urllib.parse import urlsplit

from flask import url_for

# What a browser ignores in a URL: tabs and newlines anywhere, controls and spaces at the ends
# ("java\tscript:" and " javascript:" are javascript: URLs to it).
_IGNORED_INSIDE = re.compile(r"[\t\n\r]")
_IGNORED_AT_ENDS = "".join(chr(c) for c in range(0x21))


def http_url(value) -> str | None:
    """`value` as a link target if it is an absolute http(s) URL, else None: a URL typed or
    imported (a profile, a post) becomes a link only then, never `javascript:` or `data:`.
    Templates have it as the `http_url` filter."""
    if not value:
        return None
    url = _IGNORED_INSIDE.sub("", str(value)).strip(_IGNORED_AT_ENDS)
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return url

_FIRST_MARK = 987654321


class RowUrl:
    """`url_for(endpoint, **fixed)` with integer arguments (`names`) filled in per call:
    `RowUrl("contacts.show", "contact_id")(42) == url_for("contacts.show", contact_id=42)`.
    Templates have it as `row_url`: `{% set contact_url = row_url('contacts.show',
    'contact_id') %}` once, then `contact_url(c.id)` in the loop.
    """

    def __init__(self, endpoint: str, *names: str, **fixed):
        marks = {name: _FIRST_MARK + i for i, name in enumerate(names)}
        url = url_for(endpoint, **fixed, **marks)
        pieces = re.split("(" + "|".join(str(m) for m in marks.values()) + ")", url)
        # Even positions are literal text, odd ones the marks, in the order they appear.
        self._text = pieces[0::2]
        self._order = [int(m) - _FIRST_MARK for m in pieces[1::2]]
        if sorted(self._order) != list(range(len(names))):
            raise ValueError(f"{endpoint}: each of {names} must appear once in the URL")

    def __call__(self, *ids: int) -> str:
        text = self._text
        parts = [text[0]]
        for i, which in enumerate(self._order):
            parts.append(str(int(ids[which])))
            parts.append(text[i + 1])
        return "".join(parts)



def local_path(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: a `next=` never sends anyone
    to another site. Browsers read a backslash as a slash ("/\\evil.test" is
    "//evil.test"), and ignore tabs and newlines, so those are refused too."""
    if not target:
        return default
    cleaned = _IGNORED_INSIDE.sub("", target)
    parts = urlsplit(cleaned)
    if parts.scheme or parts.netloc or not cleaned.startswith("/") or cleaned.startswith("//") \
            or "\\" in cleaned:
        return default
    return target
