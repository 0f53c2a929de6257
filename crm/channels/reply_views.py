"""Replying on a live channel from a conversation, the poll that keeps DM pages live, and
the media files of WhatsApp messages (served only to who may see the conversation)."""
from flask import (Blueprint, abort, flash, make_response, redirect, render_template, request,
                   send_file, url_for)
from flask_login import current_user

from crm import policy
from crm.channels import live, media, replies
from crm.conversations.models import Message, MessageMedia
from crm.channels.jobs import enqueue_send
from crm.core.errors import OutreachRefused, ServiceError
from crm.extensions import db, htmx
from crm.core.viewer import me

bp = Blueprint("channel_replies", __name__)
bp.add_app_template_global(live.reply_box, "channel_reply_box")
bp.add_app_template_global(live.dm_version, "dm_version")
bp.add_app_template_global(media.files_of, "message_files")
bp.add_app_template_global(media.is_inline, "media_is_inline")


@bp.post("/conversations/<int:conversation_id>/reply")
def reply(conversation_id):
    """Send a reply through the conversation's channel (a job; shows as sending)."""
    conv = policy.get_conversation(me(), conversation_id)
    try:
        send = replies.queue_reply(
            current_user, conv, body=request.form.get("body", ""),
            template_id=request.form.get("template_id") or None,
            template_params=request.form.getlist("template_params"))
        enqueue_send(send.id, user=current_user)
    except OutreachRefused:
        raise
    except ServiceError as e:
        db.session.rollback()
        if htmx:
            return render_template("channels/_reply_refused.html", message=e.message), 200, {
                "HX-Reswap": "none"}
        flash(e.message, "error")
    if htmx:
        return redirect(url_for("conversations.show", conversation_id=conv.id))
    return redirect(url_for("contacts.show", contact_id=conv.contact_id,
                            conversation=conv.id) + "#conversations")


@bp.get("/live/dms")
def poll():
    """304 while nothing changed; otherwise 200 and an event that refreshes what is shown."""
    version, seen = live.dm_version(), request.args.get("v")
    if seen == version or request.if_none_match.contains(version):
        response = make_response("", 304)
    else:
        response = make_response(render_template("channels/_poll.html", poll_version=version))
        if seen:   # the page's first ask only learns the version
            response.headers["HX-Trigger"] = "dmsChanged"
    response.set_etag(version)
    # Not kept by the browser: it would turn our 304 back into the 200 it remembered.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/media/<int:file_id>")
def media_file(file_id):
    """A stored media file, to someone who may see its conversation: images inline, other
    files as a download; never for a message deleted on the platform."""
    row = db.session.get(MessageMedia, file_id) or abort(404)
    message = db.session.get(Message, row.message_id) or abort(404)
    policy.get_conversation(me(), message.conversation_id)
    path = media.stored_path(row)
    if path is None or message.deleted_at is not None:
        abort(404)
    inline = media.is_inline(row)
    response = send_file(path, mimetype=row.content_type, as_attachment=not inline,
                         download_name=row.filename or path.name, conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
