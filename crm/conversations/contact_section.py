"""The conversations section of the contact page (shared by the page and its HTMX updates)."""
from flask import g, request, session

from crm.contacts import consent
from crm.core.forms import int_or_none
from crm.core.timeutil import local
from crm.contacts.page_sections import contact_panel
from crm.conversations import queries
from crm.conversations.forms import LogMessageForm
from crm.conversations.models import INBOUND, OUTBOUND, Message
from crm.conversations.services import outreach_warnings
from crm.dm_templates import placeholders
from crm.dm_templates.models import DMTemplate
from crm.dm_templates.services import active_templates, render_for_contact
from crm.extensions import db
from crm.settings import services as settings

LAST_PLATFORM_KEY = "dm_platform"
FILL_PREFIX = "fill-"


def default_platform(contact, conversations, active, chosen: bool) -> str:
    """The platform the log form starts on: the thread the user opened, else the last used."""
    if active is not None and chosen:
        return active.platform
    known = [c.platform for c in conversations] + [h.platform for h in contact.handles]
    last = session.get(LAST_PLATFORM_KEY)
    if last and (last in known or not known):
        return last
    return known[0] if known else (last or "instagram")


def _fresh_form(contact, conversations, active, last, permission, chosen: bool):
    """An empty log form, on the platform and in the direction the next DM likely has."""
    form = LogMessageForm(formdata=None)
    form.platform.data = default_platform(contact, conversations, active, chosen=chosen)
    if not permission.allowed:
        form.direction.data = INBOUND
    elif last is None:
        form.direction.data = OUTBOUND     # a first DM is usually our pitch
    else:
        # The next message is usually the other side's turn.
        form.direction.data = INBOUND if last.direction == OUTBOUND else OUTBOUND
    if active is not None:
        form.conversation_id.data = str(active.id)
    return form


def build(user, contact, *, conversation_id=None, before_id=None, form=None, warnings=None,
          refusal=None, use=None, focus=False, templates_open=False) -> dict:
    """Everything the panel shows; a constant handful of queries whatever the history size.
    The template picker is read only when the tool is open (`templates_open`, or a template
    in `use`); otherwise the page fetches it when the tool is opened."""
    conversations = queries.contact_conversations(contact)
    active = next((c for c in conversations if c.id == conversation_id), None)
    if active is None and conversations:
        active = conversations[0]
    before = None
    if before_id and active is not None:
        before = db.session.get(Message, before_id)
        if before is None or before.conversation_id != active.id:
            before = None
    chunk = queries.thread_chunk(active, user, before) if active else None
    # The thread's latest message when it is on screen: a DM logged after it is appended.
    last = chunk.messages[-1] if chunk and chunk.messages and before is None else None
    permission = consent.may_contact(contact)
    if form is None:
        form = _fresh_form(contact, conversations, active, last, permission,
                           chosen=conversation_id is not None)
    flagged = None
    if active is not None and active.opt_out_message_id:
        flagged = db.session.get(Message, active.opt_out_message_id)
    return {"conversations": conversations, "active": active, "chunk": chunk, "before": before,
            "form": form, "warnings": warnings or [], "refusal": refusal, "focus": focus,
            "permission": permission, "flagged": flagged, "use": use,
            "shown_until": last.id if last else None,
            "templates": active_templates(form.platform.data if form else None)
            if use or templates_open else None,
            "target_hours": int(settings.get("response_target_hours") or 24)}


def appended(user, contact, conv, message, shown_until) -> dict | None:
    """What changed on the panel once `message` is logged in `conv`, for a thread on screen
    ending with message `shown_until`: the messages after it (the new one and any that came
    meanwhile), with the tabs, the reply state and a fresh form. None when only the whole
    panel is right: another thread or an earlier page is on screen, the message went
    before the end, more than a page came after it, or the conversation is now flagged as
    an opt-out (a banner of the panel's own)."""
    if not shown_until or conv.opt_out_message_id:
        return None
    after = queries.thread_after(conv, user, shown_until)
    if after is None:
        return None
    chunk, shown_at = after
    if chunk.has_more or message.id not in {m.id for m in chunk.messages}:
        return None
    conversations = queries.contact_conversations(contact)
    permission = consent.may_contact(contact)
    last = chunk.messages[-1]
    return {"conversations": conversations, "active": conv, "chunk": chunk,
            # The first new message is on the day of the last one shown: no heading again.
            "continues_day": chunk.days[0].day == local(shown_at, user.timezone).date(),
            "form": _fresh_form(contact, conversations, conv, last, permission, chosen=True),
            "warnings": [], "refusal": None, "focus": True, "permission": permission,
            "use": None, "templates": None, "shown_until": last.id,
            "target_hours": int(settings.get("response_target_hours") or 24)}


def use_context(actor, contact, args) -> dict | None:
    """The personalised text of ?template_id= for `contact` (refused when they opted out);
    `args` are the query string's (fill-<placeholder>= values included)."""
    template_id = args.get("template_id", type=int)
    template = db.session.get(DMTemplate, template_id) if template_id else None
    if template is None:
        return None
    primary = contact.primary_handle
    platform = args.get("platform") or template.platform or (primary.platform if primary else None)
    fills = {k[len(FILL_PREFIX):]: v for k, v in args.items() if k.startswith(FILL_PREFIX)}
    rendering = render_for_contact(actor, contact, template, platform=platform, fills=fills)
    return {"template": template, "rendering": rendering, "platform": platform, "fills": fills,
            "labels": placeholders.LABELS,
            "warnings": outreach_warnings(contact, template.id, tz_name=actor.timezone)}


@contact_panel("conversations/_contact_panel.html", order=10)
def contact_page_panel(user, contact) -> dict:
    overrides = dict(getattr(g, "conversation_panel", None) or {})
    overrides.setdefault("conversation_id", int_or_none(request.args.get("conversation")))
    overrides.setdefault("before_id", int_or_none(request.args.get("before")))
    overrides.setdefault("templates_open", bool(request.args.get("templates")))
    # The inbox's "Reply" lands on the message box, ready to type.
    overrides.setdefault("focus", bool(request.args.get("reply")))
    if "use" not in overrides and request.args.get("template_id"):
        overrides["use"] = use_context(user, contact, request.args)
    return build(user, contact, **overrides)
