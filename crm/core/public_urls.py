"""Absolute links that leave the app (emails, webhook callbacks) are built from the configured
public address, never from the request's Host header, which the client chooses."""
from flask import current_app, has_request_context, url_for


def public_url(endpoint: str, **values) -> str | None:
    """The link to `endpoint` under PUBLIC_URL, or None when PUBLIC_URL is not set."""
    base = (current_app.config.get("PUBLIC_URL") or "").rstrip("/")
    if not base:
        return None
    if has_request_context():
        return base + url_for(endpoint, **values)
    return base + current_app.url_map.bind("localhost").build(endpoint, values)
