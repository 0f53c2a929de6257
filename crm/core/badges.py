"""The small labels every list repeats — consent, kind, platform — as plain functions.

They were Jinja macros; a macro call costs several times the formatting it does, and a list
page makes one or two per row. Registered as template globals under the same names
(`crm.web`), they return `Markup` with every value escaped.
"""
from markupsafe import Markup, escape

from crm.contacts.models import KIND_LABELS, PLATFORM_LABELS

_CONSENT = {
    "do_not_contact": Markup('<span class="badge badge-danger" title="Do not contact">'
                             'Do not contact</span>'),
    "opted_out": Markup('<span class="badge badge-danger">Opted out</span>'),
    "opted_in": Markup('<span class="badge badge-ok">Opted in</span>'),
    "unknown": Markup('<span class="badge badge-muted">Consent unknown</span>'),
}


def consent_badge(contact) -> Markup:
    """Do not contact, opted out, opted in or consent unknown."""
    if contact.do_not_contact:
        return _CONSENT["do_not_contact"]
    return _CONSENT.get(contact.consent_status, _CONSENT["unknown"])


def kind_badge(contact) -> Markup:
    """Contact, influencer or lead."""
    kind = contact.kind
    return Markup(f'<span class="badge badge-kind-{escape(kind)}">'
                  f'{escape(KIND_LABELS.get(kind, kind))}</span>')


def platform_chip(platform, text=None) -> Markup:
    """The platform's name in its colour; `text` instead of the name when given."""
    label = text or PLATFORM_LABELS.get(platform, platform or "")
    return Markup(f'<span class="chip chip-{escape(platform)}">{escape(label)}</span>')
