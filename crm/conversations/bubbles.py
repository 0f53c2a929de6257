"""The messages of a thread, as a plain function (the template global `message_articles`,
registered in crm.web), for the same reason as a deal's card (crm.pipeline.cards): the
contact page shows twenty messages, and as a Jinja loop with its filters, conditions and
look-ups each cost about 0.4 M instructions, a fifth of the page. Every value from the
database goes through `escape` (the body through `linkify`, which escapes it).
"""
from flask import g
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from crm.conversations.text import linkify
from crm.core.links import RowUrl
from crm.core.timeutil import local

_TIME = "%d %b %Y, %H:%M"
_DELIVERY = {"sent": "sent", "delivered": "delivered", "read": "read",
             "failed": "not delivered"}


def message_articles(messages, tz: str | None = None) -> Markup:
    """The messages' <article>s, in the order given (a day of a thread, oldest first)."""
    if tz is None:
        from crm.web import viewer_timezone
        tz = viewer_timezone()
    if "message_links" not in g:        # once per request, however many days a page shows
        g.message_links = (RowUrl("conversations.edit_message", "message_id"),
                           RowUrl("conversations.delete_message", "message_id"),
                           generate_csrf())
    return Markup("").join(message_article(m, g.message_links, tz) for m in messages)


def message_article(m, links, tz: str) -> Markup:
    """One message: its bubble (media, body) and its meta line (direction and author, time,
    template, correction), with Edit and Delete when the viewer may correct it."""
    edit, delete, csrf = links
    bubble = ""
    if m.media:
        empty = "" if m.body else ' <span class="muted">(no text)</span>'
        bubble += (f'<p class="msg-media"><span aria-hidden="true">📎</span> '
                   f'{escape(m.media_label)}{empty}</p>')
    if m.body:
        bubble += f'<div class="msg-body" dir="auto">{linkify(m.body)}</div>'
    if m.is_inbound:
        meta = '<span class="msg-dir">Received</span>'
    else:
        by = m.author.name if m.author else m.sender_name
        meta = f'<span class="msg-dir">Sent{f" by {escape(by)}" if by else ""}</span>'
    meta += (f' · <time datetime="{m.sent_at.isoformat()}Z" '
             f'title="{m.local_at.strftime(_TIME)}">{m.local_at.strftime("%H:%M")}</time>')
    if m.template:
        meta += (' · <span class="badge badge-tpl" title="Sent from a template">'
                 f'{escape(m.template.name)}</span>')
    if m.edited_at:
        meta += f' · <span title="Corrected {local(m.edited_at, tz).strftime(_TIME)}">edited</span>'
    if m.delivery_status:
        # Sent through a live channel: how far it got, or why it did not arrive.
        label = _DELIVERY.get(m.delivery_status, m.delivery_status)
        why = f": {escape(m.delivery_error)}" if m.delivery_error else ""
        meta += f' · <span class="msg-delivery msg-{escape(m.delivery_status)}">{label}{why}</span>'
    if m.editable:
        url, gone = edit(m.id), delete(m.id)
        meta += (
            f'\n    <span class="msg-actions">\n'
            f'      <a href="{url}" hx-get="{url}" hx-target="#msg-{m.id}" hx-swap="outerHTML"'
            ' aria-label="Edit this message">Edit</a>\n'
            f'      <form method="post" action="{gone}" class="inline-form" hx-post="{gone}" '
            'hx-target="#conversations" hx-swap="outerHTML" '
            'hx-confirm="Delete this message? The deletion is kept in the audit log.">\n'
            f'        <input type="hidden" name="csrf_token" value="{csrf}">\n'
            '        <button class="btn-link danger" type="submit" '
            'aria-label="Delete this message">Delete</button>\n'
            '      </form>\n    </span>')
    return Markup(
        f'<article class="msg {"msg-in" if m.is_inbound else "msg-out"}" id="msg-{m.id}">\n'
        f'  <div class="msg-bubble">{bubble}</div>\n'
        f'  <div class="msg-meta">\n    {meta}\n  </div>\n</article>\n')
