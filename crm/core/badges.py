"""The small labels every list repeats — consent, kind, platform, a deal's last DM — as
plain functions.

They were Jinja macros; a macro call costs several times the formatting it does, and a list
page makes one or two per row. Registered as template globals under the same names
(`crm.web`), they return `Markup` with every value escaped.
"""
from markupsafe import Markup, escape

from crm.contacts.models import KIND_LABELS, PLATFORM_LABELS
from crm.core.timeutil import ago

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


def last_dm_text(conv) -> Markup:
    """Where a deal's conversation stands: who wrote last and how long ago (board cards)."""
    if conv is None:
        return Markup('<span class="muted">No DMs logged</span>')
    if conv.state == "needs_reply":
        return Markup('<span class="badge badge-warn">Needs reply</span> <span class="muted">'
                      f'they wrote {escape(ago(conv.last_inbound_at))} ago</span>')
    if conv.state == "awaiting_reply":
        return Markup(f'<span class="muted">You wrote {escape(ago(conv.last_outbound_at))} ago'
                      ' · no reply yet</span>')
    return Markup(f'<span class="muted">Last DM {escape(ago(conv.last_message_at))} ago</span>')
