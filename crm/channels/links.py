"""The callback URL a channel shows for pasting into Meta's dashboard."""
from flask import has_request_context, url_for

from crm.channels.models import Channel
from crm.core.public_urls import public_url


def callback_url(channel: Channel) -> str:
    """Under PUBLIC_URL when it is set; else the address this page was asked at."""
    found = public_url("meta_webhooks.event", key=channel.key)
    if found:
        return found
    if has_request_context():
        return url_for("meta_webhooks.event", key=channel.key, _external=True)
    return f"http://localhost:5000/webhooks/meta/{channel.key}"
