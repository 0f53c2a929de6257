"""What the reply box shows, and the cheap poll that tells open pages DMs changed."""
from dataclasses import dataclass

from flask import has_request_context, request
from sqlalchemy import func, select

from crm.channels import replies, services
from crm.channels.models import NEEDS_RECONNECTING, Channel, OutboundSend
from crm.channels.window import TEMPLATE, Window
from crm.conversations.models import MessageMedia
from crm.extensions import db
from crm.core.cache import generations

# What a page showing DMs depends on: each table's generation (crm.core.cache) changes with
# every commit that changes the table.
WATCHED = ("conversations", "messages", "contacts")
_KEY = "rapport.channels.live"


@dataclass
class ReplyBox:
    channel: object
    conversation: object
    window: Window
    pending: list
    templates: list

    @property
    def needs_template(self) -> bool:
        return self.window.mode == TEMPLATE


def reply_box(conv) -> ReplyBox | None:
    """The reply box of a conversation that came through a live channel (else None)."""
    if conv is None:
        return None
    found = replies.channel_of(conv)
    if found is None:
        return None
    channel, _ = found
    window = replies.window_for(conv, channel)
    return ReplyBox(channel, conv, window, replies.pending_for(conv),
                    channel.templates if window.mode == TEMPLATE else [])


# The newest reply in flight, the number of broken channels and the newest media file: the
# same statement on every page, so it is built once.
_LATEST = select(
    select(func.max(OutboundSend.updated_at)).scalar_subquery(),
    select(func.count(Channel.id)).where(Channel.status == NEEDS_RECONNECTING).scalar_subquery(),
    select(func.max(MessageMedia.updated_at)).scalar_subquery())


def _state() -> tuple[str, int]:
    """(DM version, channels needing reconnection), in one statement, once per request:
    every page shows both (the poll's starting point and the banner)."""
    kept = request.environ.get(_KEY) if has_request_context() else None
    if kept is None:
        row = db.session.execute(_LATEST).one()
        try:
            changes = "-".join(g[:8] for g in generations(WATCHED))
        except Exception:   # the cache is down: open pages just stop noticing changes
            changes = "?"
        kept = (f"{changes}-{row[0].timestamp() if row[0] else 0:.6f}"
                f"-{row[2].timestamp() if row[2] else 0:.6f}", row[1])
        if has_request_context():
            request.environ[_KEY] = kept
    return kept


def dm_version() -> str:
    """Changes whenever a DM, conversation, contact, reply in flight or media file changes:
    what the poll compares (one small read, whatever the data size)."""
    return _state()[0]


def channels_to_reconnect() -> list:
    """The channels the banner names (read only when there are some)."""
    return services.channels_needing_reconnection() if _state()[1] else []
