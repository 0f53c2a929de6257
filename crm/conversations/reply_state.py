"""Reply state kept on the conversation: needs reply, awaiting reply, closed.

Appending a message in time order updates the conversation incrementally (no scan of its
messages). A backdated, edited or deleted message, or a bulk import, rebuilds the state
from the messages with `rebuild_reply_state`, in bounded batches.

Rules (both paths agree):
- the latest message inbound → needs reply, waiting since the first inbound message of that
  unanswered burst; latest outbound → awaiting reply; no messages → closed;
- a user may close a conversation; it stays closed until a message later than the close;
- each inbound burst gets a ResponseTime row, answered by the first outbound after it
  (a close ends the burst unanswered);
- an outbound message's replied_at is when the contact next wrote.

An import computes all of this for the conversations it creates while it writes their
messages (`replay_new`); only conversations that already had messages are rebuilt.
"""
from itertools import groupby

from sqlalchemy import bindparam, delete, insert, select, update

from crm.conversations.models import (AWAITING_REPLY, CLOSED, INBOUND, NEEDS_REPLY, OUTBOUND,
                                      Conversation, Message, ResponseTime)
from crm.extensions import db

PREVIEW_LENGTH = 160
BATCH_SIZE = 500


def preview_of(body: str | None, media: str | None) -> str:
    from crm.conversations.models import MEDIA_LABELS

    text = " ".join((body or "").split())
    if not text and media:
        text = f"[{MEDIA_LABELS.get(media, 'Attachment')}]"
    return text[:PREVIEW_LENGTH - 1] + "…" if len(text) > PREVIEW_LENGTH else text


def is_in_order(conv: Conversation, message: Message) -> bool:
    """True when `message` is later than everything already kept on `conv`."""
    if conv.closed_at is not None and message.sent_at <= conv.closed_at:
        return False
    return conv.last_message_at is None or message.sent_at >= conv.last_message_at


def apply_new_message(conv: Conversation, message: Message) -> None:
    """Update `conv` for a message appended after all its others (flushed, has an id)."""
    if not is_in_order(conv, message):
        rebuild_reply_state([conv.id])
        return
    at = message.sent_at
    conv.message_count = (conv.message_count or 0) + 1
    conv.last_message_at = at
    conv.last_message_preview = preview_of(message.body, message.media)
    if message.direction == INBOUND:
        latest_was_outbound = conv.last_outbound_at is not None and (
            conv.last_inbound_at is None or conv.last_outbound_at >= conv.last_inbound_at)
        if latest_was_outbound:
            # Only the outbound run since the previous inbound can be unanswered.
            stmt = (update(Message)
                    .where(Message.conversation_id == conv.id, Message.direction == OUTBOUND,
                           Message.replied_at.is_(None), Message.sent_at <= at)
                    .values(replied_at=at).execution_options(synchronize_session="fetch"))
            if conv.last_inbound_at is not None:
                stmt = stmt.where(Message.sent_at >= conv.last_inbound_at)
            db.session.execute(stmt)
        conv.last_inbound_at = at
        if conv.waiting_since is None:
            conv.waiting_since = at
            db.session.add(ResponseTime(conversation_id=conv.id, burst_started_at=at))
        conv.state = NEEDS_REPLY
    else:
        if conv.waiting_since is not None:
            burst = db.session.scalars(
                select(ResponseTime)
                .where(ResponseTime.conversation_id == conv.id,
                       ResponseTime.burst_started_at == conv.waiting_since,
                       ResponseTime.answered_at.is_(None))
                .order_by(ResponseTime.id.desc()).limit(1)).first()
            if burst is not None:
                burst.answered_at = at
                burst.response_seconds = int((at - burst.burst_started_at).total_seconds())
                burst.responder_id = message.author_id
        conv.last_outbound_at = at
        conv.waiting_since = None
        conv.state = AWAITING_REPLY


def close(conv: Conversation, at) -> None:
    """No reply needed: the conversation leaves the inbox until a newer message arrives."""
    conv.state = CLOSED
    conv.closed_at = at
    conv.waiting_since = None


def _replay(conv_row, messages):
    """Everything kept about one conversation, computed from its ordered messages."""
    closed_at = conv_row.closed_at
    bursts, replied, pending = [], {}, []
    open_burst = prev = last_in = last_out = None
    for m in messages:
        if prev is not None and closed_at is not None and prev.sent_at <= closed_at < m.sent_at:
            open_burst = None   # closed in between: that burst ended unanswered
        if m.direction == INBOUND:
            last_in = m.sent_at
            for out_id, current in pending:
                if current != m.sent_at:
                    replied[out_id] = m.sent_at
            pending = []
            if open_burst is None:
                open_burst = {"conversation_id": conv_row.id, "burst_started_at": m.sent_at,
                              "answered_at": None, "response_seconds": None,
                              "responder_id": None}
                bursts.append(open_burst)
        else:
            last_out = m.sent_at
            if open_burst is not None:
                open_burst["answered_at"] = m.sent_at
                open_burst["response_seconds"] = int(
                    (m.sent_at - open_burst["burst_started_at"]).total_seconds())
                open_burst["responder_id"] = m.author_id
                open_burst = None
            pending.append((m.id, m.replied_at))
        prev = m
    for out_id, current in pending:
        if current is not None:
            replied[out_id] = None
    last = messages[-1] if messages else None
    if last is None or (closed_at is not None and last.sent_at <= closed_at):
        state = CLOSED
    else:
        state = NEEDS_REPLY if last.direction == INBOUND else AWAITING_REPLY
    values = {
        "id": conv_row.id, "state": state, "message_count": len(messages),
        "last_message_at": last.sent_at if last else None, "last_inbound_at": last_in,
        "last_outbound_at": last_out,
        "waiting_since": open_burst["burst_started_at"] if state == NEEDS_REPLY and open_burst
        else None,
    }
    return values, bursts, replied, (last.id if last else None)


def replay_new(conversation_id: int, messages) -> tuple[dict, list, list]:
    """`_replay` for a conversation that had no messages and was never closed, computed from
    its new messages before they are written, so an import stores replied_at with each row
    and needs no rebuild afterwards.

    `messages`: (direction, sent_at, author_id, body, media) in the order they will be
    inserted, which must be sent_at order (ids follow it, so it is the rebuild's order too).
    Returns (conversation values as `_replay` gives them plus the preview, ResponseTime rows,
    replied_at of each message).
    """
    replied: list = [None] * len(messages)
    next_in = None
    for i in range(len(messages) - 1, -1, -1):
        m = messages[i]
        if m[0] == INBOUND:
            next_in = m[1]
        else:
            replied[i] = next_in
    bursts, open_burst = [], None
    last_in = last_out = None
    for direction, at, author_id, _body, _media in messages:
        if direction == INBOUND:
            last_in = at
            if open_burst is None:
                open_burst = {"conversation_id": conversation_id, "burst_started_at": at,
                              "answered_at": None, "response_seconds": None,
                              "responder_id": None}
                bursts.append(open_burst)
        else:
            last_out = at
            if open_burst is not None:
                open_burst["answered_at"] = at
                open_burst["response_seconds"] = int(
                    (at - open_burst["burst_started_at"]).total_seconds())
                open_burst["responder_id"] = author_id
                open_burst = None
    last = messages[-1] if messages else None
    if last is None:
        state = CLOSED
    else:
        state = NEEDS_REPLY if last[0] == INBOUND else AWAITING_REPLY
    values = {
        "id": conversation_id, "state": state, "message_count": len(messages),
        "last_message_at": last[1] if last else None, "last_inbound_at": last_in,
        "last_outbound_at": last_out,
        "waiting_since": open_burst["burst_started_at"] if state == NEEDS_REPLY and open_burst
        else None,
        "last_message_preview": preview_of(last[3], last[4]) if last else None,
    }
    return values, bursts, replied


def write_replayed(values: list[dict], bursts: list[dict]) -> None:
    """Store what `replay_new` computed: conversation columns and ResponseTime rows.

    The conversations must have no ResponseTime rows yet (they had no messages). Plain
    executemany on the tables; the caller expires ORM objects it still holds.
    """
    if bursts:
        db.session.execute(insert(ResponseTime.__table__), bursts)
    if values:
        convs = Conversation.__table__
        keys = [k for k in values[0] if k != "id"]
        db.session.execute(
            update(convs).where(convs.c.id == bindparam("_id"))
            .values({k: bindparam(f"_{k}") for k in keys}),
            [{f"_{k}": v[k] for k in ("id", *keys)} for v in values])


def rebuild_reply_state(conversation_ids) -> None:
    """Recompute reply state, timestamps, counts, ResponseTime rows and Message.replied_at.

    Works through the ids in batches, streaming only the columns it needs, so it can run over
    every conversation after a bulk import.
    """
    ids = sorted({int(i) for i in conversation_ids})
    if not ids:
        return
    db.session.flush()
    for start in range(0, len(ids), BATCH_SIZE):
        _rebuild_batch(ids[start:start + BATCH_SIZE])
    # The bulk statements bypass the identity map; reload whatever the caller holds.
    db.session.expire_all()


def _rebuild_batch(batch: list[int]) -> None:
    convs = db.session.execute(
        select(Conversation.id, Conversation.closed_at).where(Conversation.id.in_(batch))).all()
    rows = db.session.execute(
        select(Message.id, Message.conversation_id, Message.direction, Message.sent_at,
               Message.author_id, Message.replied_at)
        .where(Message.conversation_id.in_(batch))
        .order_by(Message.conversation_id, Message.sent_at, Message.id)
        .execution_options(yield_per=5000))
    by_conv = {cid: list(msgs) for cid, msgs in groupby(rows, key=lambda r: r.conversation_id)}
    conv_values, bursts, replied, last_ids = [], [], {}, {}
    for conv_row in convs:
        values, conv_bursts, conv_replied, last_id = _replay(conv_row, by_conv.get(conv_row.id, []))
        conv_values.append(values)
        bursts.extend(conv_bursts)
        replied.update(conv_replied)
        last_ids[conv_row.id] = last_id
    previews = {}
    wanted = [i for i in last_ids.values() if i is not None]
    if wanted:
        for mid, body, media in db.session.execute(
                select(Message.id, Message.body, Message.media).where(Message.id.in_(wanted))):
            previews[mid] = preview_of(body, media)
    for values in conv_values:
        values["last_message_preview"] = previews.get(last_ids[values["id"]])
    # Plain executemany on the tables: the ORM's bulk paths cost a statement per row here.
    db.session.execute(delete(ResponseTime).where(ResponseTime.conversation_id.in_(batch)))
    if bursts:
        db.session.execute(insert(ResponseTime.__table__), bursts)
    if replied:
        messages = Message.__table__
        db.session.execute(
            update(messages).where(messages.c.id == bindparam("_id"))
            .values(replied_at=bindparam("_replied_at")),
            [{"_id": k, "_replied_at": v} for k, v in replied.items()])
    if conv_values:
        convs = Conversation.__table__
        db.session.execute(
            update(convs).where(convs.c.id == bindparam("_id"))
            .values({k: bindparam(f"_{k}") for k in conv_values[0] if k != "id"}),
            [{f"_{k}": v for k, v in values.items()} for values in conv_values])

