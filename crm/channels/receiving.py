"""Meta's webhook contract: the subscription handshake, the signature, what a body must be."""
import functools
import hashlib
import hmac
import json
from contextlib import contextmanager

from flask import current_app
from sqlalchemy import bindparam, insert, select

from crm.channels import secrets, spool
from crm.channels.models import INSTAGRAM, MESSENGER, PENDING, WHATSAPP, Channel, ChannelEvent
from crm.core.timeutil import utcnow
from crm.extensions import db

# The `object` each kind of channel is sent.
OBJECTS = {INSTAGRAM: "instagram", MESSENGER: "page", WHATSAPP: "whatsapp_business_account"}


class Refused(Exception):
    """The request is not a valid event for this channel; `status` is the HTTP answer."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status, self.reason = status, reason


# Built once: the acknowledging path runs for every event Meta posts, so it executes these
# two statements on the connection, without building a query each time.
_CHANNEL_BY_KEY = select(Channel.id, Channel.kind, Channel.app_secret, Channel.verify_token
                         ).where(Channel.key == bindparam("key"))
_STORE_EVENT = insert(ChannelEvent.__table__).returning(ChannelEvent.__table__.c.id)


@contextmanager
def acknowledging():
    """The connection an event is acknowledged on: one of the pool's, in autocommit. The
    channel lookup is a read and the event's INSERT commits by itself, so the request's
    session never opens a transaction: no BEGIN and COMMIT round trips per event on
    PostgreSQL. Each event is committed before its 200, whatever else the request does."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        yield conn


def channel_for_key(key: str, conn=None):
    """What receiving needs of the channel behind a callback key (id, kind, app secret,
    verify token), or None. A plain row."""
    conn = conn if conn is not None else db.session.connection()
    return conn.execute(_CHANNEL_BY_KEY, {"key": key}).first()


def handshake(channel, mode: str | None, token: str | None,
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


@functools.lru_cache(maxsize=256)
def _plain(token: str, key_setting: str | None) -> str:
    """A stored secret in the clear, decrypted once per process (a new secret or key is a
    new entry)."""
    return secrets.decrypt(token)


def check_signature(channel, body: bytes, header: str | None) -> None:
    """HMAC-SHA256 over the bytes as received, compared in constant time."""
    if not header or not header.startswith("sha256="):
        raise Refused(401, "missing signature")
    app_secret = _plain(channel.app_secret, current_app.config.get("CHANNELS_ENCRYPTION_KEY"))
    expected = signature_of(app_secret, body)
    if not hmac.compare_digest(header.strip().encode(), expected.encode()):
        raise Refused(401, "wrong signature")


def check_shape(channel, body: bytes) -> dict:
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


def receive(conn, channel, body: bytes, signature: str | None) -> int:
    """A signed, well-formed event, stored for the worker (nothing stored otherwise): in the
    spool on SQLite, in channel_events on PostgreSQL (committed on `conn`, from
    `acknowledging`). Returns its id there."""
    check_signature(channel, body, signature)
    check_shape(channel, body)
    if spool.enabled():
        return spool.store(channel.id, body)
    return conn.execute(_STORE_EVENT, {
        "channel_id": channel.id, "body": body, "status": PENDING, "attempts": 0,
        "received_at": utcnow()}).scalar_one()
