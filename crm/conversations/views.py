"""DM pages: the inbox, the nav count, logging and correcting messages on a contact."""

from flask import (Blueprint, abort, current_app, flash, g, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import lazyload

from crm import policy
from crm.accounts.models import User
from crm.contacts.models import Contact
from crm.contacts.consent import record_refusal
from crm.conversations import contact_section, queries, services
from crm.conversations.forms import EditMessageForm, LogMessageForm, invalid_time_message
from crm.conversations.models import OUTBOUND, Conversation, Message
from crm.conversations.text import linkify
from crm.core import transaction
from crm.core.errors import OutreachRefused, ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.core.links import local_path
from crm.core.timeutil import from_local, humanize_duration, local, utcnow
from crm.core.viewer import me
from crm.extensions import db, htmx

bp = Blueprint("conversations", __name__)
bp.add_app_template_filter(linkify, "linkify")


@bp.app_template_global()
def now_utc():
    return utcnow()


@bp.app_template_filter("since")
def since(value) -> str:
    """"just now", "12 min ago", "3 d 4 h ago"."""
    if value is None:
        return "—"
    seconds = (utcnow() - value).total_seconds()
    return "just now" if seconds < 60 else f"{humanize_duration(seconds)} ago"


def _fragment() -> bool:
    return bool(htmx) and not htmx.boosted


def _contact_url(contact_id, **args):
    return url_for("contacts.show", contact_id=contact_id, **args) + "#conversations"


def _panel(contact, **overrides) -> str:
    """The conversations panel alone (an HTMX answer)."""
    ctx = contact_section.build(me(), contact, **overrides)
    return render_template("conversations/_contact_panel.html", panel=ctx, contact=contact)


def _panel_response(contact, status=200, headers=None, **overrides):
    """The panel alone for HTMX; the whole contact page (same partial inside) otherwise."""
    if _fragment():
        return _panel(contact, **overrides), status, headers or {}
    g.conversation_panel = overrides
    # The whole contact page as its own view renders it (its panel reads the overrides).
    return current_app.view_functions["contacts.show"](contact_id=contact.id), status


# Inbox -----------------------------------------------------------------------------------
@bp.get("/inbox")
def inbox():
    """Conversations waiting on us, longest wait first (or those waiting on them)."""
    filters = queries.InboxFilters.from_args(request.args)
    page = queries.inbox_page(me(), filters, request.args.get("after"))
    if filters == queries.InboxFilters():
        # Everything waiting on us, counted up to the same cap: the navigation's figure.
        g.needs_reply_count = page.total
    if _fragment() and htmx.target == "inbox-results":
        return render_template("conversations/_inbox_rows.html", page=page, saved_oob=True)
    owners = db.session.execute(select(User.id, User.name).where(User.active.is_(True))
                                .order_by(User.name)).all()
    return render_template("conversations/inbox.html", page=page, owners=owners)


@bp.get("/inbox/count")
def nav_count():
    """The needs-reply badge in the navigation (refreshes itself on messageLogged)."""
    return render_template("conversations/_nav_count.html",
                           count=services.needs_reply_count(current_user))


# Logging ---------------------------------------------------------------------------------
def _sent_at(form):
    return from_local(form.sent_at.data, current_user.timezone) if form.sent_at.data else None


def _target_conversation(contact, form):
    conv_id = int_or_none(form.conversation_id.data)
    if conv_id is not None:
        # The contact is already loaded: not again with it.
        conv = db.session.get(Conversation, conv_id,
                              options=[lazyload(Conversation.contact)])
        if conv is not None and conv.contact_id == contact.id \
                and conv.platform == form.platform.data:
            return conv
    return None


# The answer to a DM logged shows no tags, and its handles only when the whole panel is
# rendered: they are read if it is.
_LOG_ANSWER_LOADS = (lazyload(Contact.handles), lazyload(Contact.tags))


@bp.post("/contacts/<int:contact_id>/messages")
def log(contact_id):
    """Log a DM on a contact; an outbound one first passes consent and the duplicate check."""
    contact = policy.get_contact(current_user, contact_id, options=_LOG_ANSWER_LOADS)
    form = LogMessageForm()
    if not form.validate():
        invalid_time_message(form)
        return _panel_response(contact, form=form)
    template_id = int_or_none(form.template_id.data)
    conv = _target_conversation(contact, form)
    try:
        if form.direction.data == OUTBOUND and not form.confirm.data:
            services.check_may_send(contact)
            warnings = services.outreach_warnings(contact, template_id,
                                                  tz_name=current_user.timezone)
            if warnings:
                return _panel_response(contact, form=form, warnings=warnings,
                                       conversation_id=conv.id if conv else None)
        message = services.log_message(
            current_user, contact, platform=form.platform.data, direction=form.direction.data,
            body=form.body.data, sent_at=_sent_at(form), media=form.media.data or None,
            template_id=template_id, conversation=conv)
    except OutreachRefused as e:
        if not _fragment():
            raise  # the app's handler rolls back, records the refusal and explains it
        db.session.rollback()
        record_refusal(current_user, contact.id, e.action, e.message)
        return _panel_response(contact, form=form, refusal=e.message)
    except ServiceError as e:
        db.session.rollback()
        apply_service_error(form, e)
        return _panel_response(contact, form=form)
    if session.get(contact_section.LAST_PLATFORM_KEY) != form.platform.data:
        # Only a change re-signs the session cookie (and sends it again).
        session[contact_section.LAST_PLATFORM_KEY] = form.platform.data
    trigger = {"HX-Trigger": "messageLogged"}
    if not _fragment():
        flash("Message logged.", "success")
        return redirect(_contact_url(contact.id, conversation=message.conversation_id))
    shown_until = int_or_none(form.shown_until.data)

    def answer():
        changes = contact_section.appended(me(), contact, message.conversation, message,
                                           shown_until)
        if changes is None:
            return _panel(contact, conversation_id=message.conversation_id, focus=True)
        # Everything it changes is swapped out of band; the panel itself stays.
        return (render_template("conversations/_logged.html", panel=changes, contact=contact),
                {"HX-Reswap": "none"})

    return transaction.answer_after_commit(answer, headers=trigger)


@bp.get("/conversations/<int:conversation_id>")
def show(conversation_id):
    """One conversation in the contact's panel (HTMX), or the contact page open on it."""
    conv = policy.get_conversation(current_user, conversation_id)
    if not _fragment():
        return redirect(_contact_url(conv.contact_id, conversation=conv.id))
    return _panel_response(conv.contact, conversation_id=conv.id)


@bp.get("/conversations/<int:conversation_id>/earlier")
def earlier(conversation_id):
    """Older messages before ?before=<message id> ("load earlier")."""
    conv = policy.get_conversation(current_user, conversation_id)
    before = db.session.get(Message, request.args.get("before", type=int) or 0)
    if before is None or before.conversation_id != conv.id:
        abort(404)
    if not _fragment():
        return redirect(_contact_url(conv.contact_id, conversation=conv.id, before=before.id))
    chunk = queries.thread_chunk(conv, current_user, before)
    same_day = bool(chunk.days) and chunk.days[-1].day == local(
        before.sent_at, current_user.timezone).date()
    return render_template("conversations/_messages.html", chunk=chunk, contact=conv.contact,
                           merge_into=before.id if same_day else None)


# Correcting ------------------------------------------------------------------------------
def _own_message(message_id) -> Message:
    message = db.session.get(Message, message_id)
    if message is None:
        abort(404)
    policy.get_conversation(current_user, message.conversation_id)
    if not policy.can_edit_message(current_user, message):
        abort(404)
    return message


@bp.route("/messages/<int:message_id>/edit", methods=["GET", "POST"])
def edit_message(message_id):
    """Correct a message you logged (HTMX in place, or a page of its own)."""
    message = _own_message(message_id)
    contact = message.conversation.contact
    form = EditMessageForm(obj=message) if request.method == "GET" else EditMessageForm()
    if request.method == "GET":
        form.sent_at.data = local(message.sent_at, current_user.timezone).replace(tzinfo=None)
        form.media.data = message.media or ""
    elif form.validate():
        try:
            services.edit_message(current_user, message, body=form.body.data,
                                  direction=form.direction.data, sent_at=_sent_at(form),
                                  media=form.media.data or None)
        except ServiceError as e:
            db.session.rollback()
            if isinstance(e, OutreachRefused):
                raise
            apply_service_error(form, e)
        else:
            if _fragment():
                # The form sat where the message was; the answer is the whole panel.
                headers = {"HX-Trigger": "messageLogged", "HX-Retarget": "#conversations",
                           "HX-Reswap": "outerHTML"}
                return _panel_response(contact, headers=headers,
                                       conversation_id=message.conversation_id)
            flash("Message corrected.", "success")
            return redirect(_contact_url(contact.id, conversation=message.conversation_id))
    else:
        invalid_time_message(form)
    template = "conversations/_message_edit.html" if _fragment() else "conversations/edit.html"
    return render_template(template, form=form, m=message, contact=contact)


@bp.post("/messages/<int:message_id>/delete")
def delete_message(message_id):
    """Delete a message you logged (kept in the audit log)."""
    message = _own_message(message_id)
    contact, conv_id = message.conversation.contact, message.conversation_id
    try:
        services.delete_message(current_user, message)
        note, category = "Message deleted.", "success"
    except ServiceError as e:
        db.session.rollback()
        note, category = e.message, "error"
    if _fragment():
        return _panel_response(contact, headers={"HX-Trigger": "messageLogged"},
                               conversation_id=conv_id,
                               refusal=note if category == "error" else None)
    flash(note, category)
    return redirect(_contact_url(contact.id, conversation=conv_id))


# Conversation state ----------------------------------------------------------------------
def _back(default):
    return local_path(request.form.get("next"), default)


@bp.post("/conversations/<int:conversation_id>/close")
def close(conversation_id):
    """No reply needed: take the conversation out of the inbox."""
    conv = policy.get_conversation(current_user, conversation_id)
    services.close_conversation(current_user, conv)
    flash(f"Conversation with {conv.contact.name} marked as done.", "success")
    return redirect(_back(_contact_url(conv.contact_id, conversation=conv.id)))


@bp.post("/conversations/<int:conversation_id>/reopen")
def reopen(conversation_id):
    """Put a closed conversation back to the state its latest message implies."""
    conv = policy.get_conversation(current_user, conversation_id)
    services.reopen_conversation(current_user, conv)
    flash("Conversation reopened.", "success")
    return redirect(_back(_contact_url(conv.contact_id, conversation=conv.id)))


@bp.post("/conversations/<int:conversation_id>/opt-out")
def record_opt_out(conversation_id):
    """One click: record the opt-out the flagged message asks for."""
    conv = policy.get_conversation(current_user, conversation_id)
    try:
        services.record_opt_out(current_user, conv)
        flash(f"{conv.contact.name} is opted out; open outreach tasks were cancelled.",
              "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(_contact_url(conv.contact_id, conversation=conv.id))


@bp.post("/conversations/<int:conversation_id>/not-opt-out")
def dismiss_opt_out(conversation_id):
    """The flagged message was not an opt-out: drop the flag."""
    conv = policy.get_conversation(current_user, conversation_id)
    services.dismiss_opt_out(current_user, conv)
    return redirect(_contact_url(conv.contact_id, conversation=conv.id))


@bp.get("/templates/use/<int:contact_id>")
def use_template(contact_id):
    """Fill a template in for a contact: the text to copy, or what is missing first."""
    contact = policy.get_contact(current_user, contact_id)
    if not (htmx and not htmx.boosted):
        args = {k: v for k, v in request.args.items() if v}
        return redirect(url_for("contacts.show", contact_id=contact.id, **args) + "#template-tool")
    use = contact_section.use_context(current_user, contact, request.args)
    if use is None:
        return render_template("dm_templates/_use_empty.html")
    return render_template("dm_templates/_use.html", use=use, contact=contact)
