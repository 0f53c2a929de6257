"""/webhooks/meta/<key>: where Meta delivers a channel's events (no session, no CSRF)."""
from flask import Blueprint, abort, current_app, request

from crm.channels import receiving
from crm.channels.jobs import enqueue_event
from crm.extensions import csrf, limiter

bp = Blueprint("meta_webhooks", __name__, url_prefix="/webhooks/meta")
csrf.exempt(bp)
# Meta delivers in bursts and retries what is not acknowledged: no rate limit here (an
# unsigned request costs one lookup and an HMAC before it is refused).
limiter.exempt(bp)
PUBLIC = {"meta_webhooks.subscribe", "meta_webhooks.event"}


def _channel(key: str, conn=None):
    channel = receiving.channel_for_key(key, conn)
    if channel is None:
        abort(404)
    return channel


@bp.get("/<key>", endpoint="subscribe")
def subscribe(key):
    """Meta's subscription handshake: echo hub.challenge when the verify token matches."""
    channel = _channel(key)
    try:
        challenge = receiving.handshake(channel, request.args.get("hub.mode"),
                                        request.args.get("hub.verify_token"),
                                        request.args.get("hub.challenge"))
    except receiving.Refused as e:
        return e.reason, e.status, {"Content-Type": "text/plain"}
    return challenge, 200, {"Content-Type": "text/plain"}


@bp.post("/<key>", endpoint="event")
def event(key):
    """A signed event: stored and queued, answered at once; the worker does the rest."""
    with receiving.acknowledging() as conn:
        channel = _channel(key, conn)
        limit = current_app.config["META_WEBHOOK_MAX_BYTES"]
        if request.content_length is not None and request.content_length > limit:
            return "too large", 413, {"Content-Type": "text/plain"}
        request.max_content_length = limit
        body = request.get_data(cache=False)
        try:
            stored = receiving.receive(conn, channel, body,
                                       request.headers.get("X-Hub-Signature-256"))
        except receiving.Refused as e:
            return e.reason, e.status, {"Content-Type": "text/plain"}
    # The event is committed; a drain job, when one is needed, commits at the request's end
    # and reaches the queue after.
    enqueue_event(stored)
    return "EVENT_RECEIVED", 200, {"Content-Type": "text/plain"}
