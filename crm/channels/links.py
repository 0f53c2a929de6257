"""The callback URL a channel shows for pasting into Meta's dashboard."""
from flask import current_app, has_request_context, url_for

from crm.channels.models import Channel


def callback_url(channel: Channel) -> str:
    public = current_app.config.get("PUBLIC_URL")
    if public:
        return public.rstrip("/") + f"/webhooks/meta/{channel.key}"
    if has_request_context():
        return url_for("meta_webhooks.event", key=channel.key, _external=True)
    return f"http://localhost:5000/webhooks/meta/{channel.key}"
