"""Meta's webhook contract: the subscription handshake, the signature, what a body must be."""
import hashlib
import hmac
import json

from crm.channels import secrets
from crm.channels.models import INSTAGRAM, MESSENGER, WHATSAPP, Channel, ChannelEvent
from crm.extensions import db

# The `object` each kind of channel is sent.
OBJECTS = {INSTAGRAM: "instagram", MESSENGER: "page", WHATSAPP: "whatsapp_business_account"}


class Refused(Exception):
    """The request is not a valid event for this channel; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


def handshake(channel: Channel, mode: str | None, token: str | None,
              challenge: str | None) -> str:
    """The challenge to echo when Meta subscribes with this channel's verify token."""
    expected = secrets.decrypt(channel.verify_token)
    if mode != "subscribe" or not challenge or not hmac.compare_digest(
            (token or "").encode(), expected.encode()):
        raise Refused(403, "verify token does not match")
    return challenge


def signature_of(app_secret: str, body: bytes) -> str:
    """The X-Hub-Signature-256 value Meta sends with `body`."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(channel: Channel, body: bytes, header: str | None) -> None:
    """HMAC-SHA256 over the bytes as received, compared in constant time."""
    if not header or not header.startswith("sha256="):
        raise Refused(401, "missing signature")
    expected = signature_of(secrets.decrypt(channel.app_secret), body)
    if not hmac.compare_digest(header.strip().encode(), expected.encode()):
        raise Refused(401, "wrong signature")


def check_shape(channel: Channel, body: bytes) -> dict:
    """The parsed body, when it is an event for this kind of channel."""
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise Refused(400, "body is not JSON") from None
    if not isinstance(payload, dict) or payload.get("object") != OBJECTS[channel.kind]:
        raise Refused(400, f"object is not {OBJECTS[channel.kind]!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list) or not entries or not all(
            isinstance(e, dict) for e in entries):
        raise Refused(400, "entry is not a list of objects")
    return payload


def receive(channel: Channel, body: bytes, signature: str | None) -> ChannelEvent:
    """A signed, well-formed event, stored for the worker (nothing stored otherwise)."""
    check_signature(channel, body, signature)
    check_shape(channel, body)
    event = ChannelEvent(channel_id=channel.id, body=body)
    db.session.add(event)
    db.session.flush()
    return event
