"""Showing message text safely: everything escaped, only http(s) links made clickable."""
import re

from markupsafe import Markup, escape

from crm.core.links import http_url

URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the link ("see https://x.com/a.").
TRAILING = ".,;:!?)]}»”’"
LINK = Markup('<a href="{0}" rel="noopener noreferrer nofollow" target="_blank">{0}</a>')


def linkify(text: str | None) -> Markup:
    """Escape `text` and wrap http(s) URLs in links that open safely; nothing else is HTML."""
    if not text:
        return Markup("")
    out, pos = [], 0
    for match in URL.finditer(text):
        url = match.group(0)
        trimmed = url.rstrip(TRAILING)
        # Keep a closing bracket that belongs to the URL, e.g. wiki/Foo_(bar).
        while (trimmed != url and url[len(trimmed)] == ")"
               and trimmed.count("(") > trimmed.count(")")):
            trimmed += ")"
        if not http_url(trimmed):
            continue
        end = match.start() + len(trimmed)
        out.append(escape(text[pos:match.start()]))
        out.append(LINK.format(trimmed))
        pos = end
    out.append(escape(text[pos:]))
    return Markup("").join(out)
