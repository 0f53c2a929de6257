"""Reply state kept on the conversation: needs reply, awaiting reply, closed.

The rules live in one pure function, `advance(state, messages)`: from a conversation's kept
state and messages later than all it holds, the next state and what changed (response times
opened or answered, when each outbound message was replied to). Replaying a conversation is
`advance` from the empty state over all its messages (`replay`); appending is `advance` from
the stored state over the new ones. Whatever the order messages arrive in, the result is the
same (tests/test_reply_state_property.py holds that).

Rules:
- the latest message inbound → needs reply, waiting since the first inbound message of that
  unanswered burst; latest outbound → awaiting reply; no messages → closed;
- a user may close a conversation; it stays closed until a message later than the close;
- each inbound burst gets a ResponseTime row, answered by the first outbound after it
  (a close ends the burst unanswered);
- an outbound message's replied_at is when the contact next wrote.

Messages the platform reported deleted (Message.deleted_at) take no part: the replay skips
them, as if they had been removed.

Messages are any sequences whose first three items are (direction, sent_at, author_id), in
(sent_at, id) order. The database side (`apply`, `rebuild_reply_state`, `replay_new`) only
stores what `advance` works out, and the two copies others read, in the same transaction:
each contact's latest outbound DM (contacts.last_outbound_at, for the dashboard's "unknown
consent in outreach") and when an automatic follow-up's DM was answered
(tasks.source_replied_at, for "follow-ups followed by a reply").
"""
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from crm.contacts.models import Contact
from crm.conversations.models import (AWAITING_REPLY, CLOSED, INBOUND, MEDIA_LABELS, NEEDS_REPLY,
                                      OUTBOUND, Conversation, Message, ResponseTime)
from crm.extensions import db
from crm.tasks.models import Task

PREVIEW_LENGTH = 160
BATCH_SIZE = 500


def preview_of(body: str | None, media: str | None) -> str:
    text = " ".join((body or "").split())
    if not text and media:
        text = f"[{MEDIA_LABELS.get(media, 'Attachment')}]"
    return text[:PREVIEW_LENGTH - 1] + "…" if len(text) > PREVIEW_LENGTH else text


@dataclass(frozen=True, slots=True)
class ReplyState:
    """What a conversation keeps about its messages (the preview aside)."""

    state: str = CLOSED
    message_count: int = 0
    last_message_at: datetime | None = None
    last_inbound_at: datetime | None = None
    last_outbound_at: datetime | None = None
    waiting_since: datetime | None = None   # start of the open, unanswered inbound burst
    closed_at: datetime | None = None

    @classmethod
    def of(cls, conv) -> "ReplyState":
        return cls(conv.state, conv.message_count or 0, conv.last_message_at,
                   conv.last_inbound_at, conv.last_outbound_at, conv.waiting_since,
                   conv.closed_at)

    def values(self) -> dict:
        """The conversation columns this state sets (closed_at is the user's, not ours)."""
        return {"state": self.state, "message_count": self.message_count,
                "last_message_at": self.last_message_at,
                "last_inbound_at": self.last_inbound_at,
                "last_outbound_at": self.last_outbound_at, "waiting_since": self.waiting_since}


@dataclass(slots=True)
class Step:
    """What `advance` worked out."""

    state: ReplyState
    # Bursts that started among the new messages: [started_at, answered_at, seconds, responder].
    bursts: list
    # The burst open before (started at the old waiting_since), when a new message answered
    # it: (answered_at, seconds, responder_id).
    answered: tuple | None
    # Per new message: for an outbound one, when the contact next wrote (None: not yet).
    replied: list
    # When the contact first wrote among the new messages, if outbound messages stored
    # before them were still unanswered (they are answered then); else None.
    earlier_replied_at: datetime | None


def in_order(state: ReplyState, first_sent_at: datetime) -> bool:
    """True when a message sent then comes after everything `state` holds (and after a
    close): `advance` may append it; otherwise the conversation is replayed."""
    if state.closed_at is not None and first_sent_at <= state.closed_at:
        return False
    return state.last_message_at is None or first_sent_at >= state.last_message_at


def advance(state: ReplyState, messages) -> Step:
    """The reply state after `messages`, which come after everything `state` holds (or
    `state` is empty: a replay). Pure: reads nothing, writes nothing."""
    closed_at = state.closed_at
    prev_at = state.last_message_at
    last_in, last_out = state.last_inbound_at, state.last_outbound_at
    waiting = state.waiting_since
    # Outbound messages stored before may be unanswered when the latest of them was outbound.
    earlier_pending = last_out is not None and (last_in is None or last_out >= last_in)
    earlier_replied_at = answered = opened = None
    bursts: list = []
    replied: list = [None] * len(messages)
    pending: list[int] = []
    last_direction = None
    for i, m in enumerate(messages):
        direction, at = m[0], m[1]
        if closed_at is not None and prev_at is not None and prev_at <= closed_at < at:
            waiting = opened = None   # closed in between: that burst ended unanswered
        if direction == INBOUND:
            last_in = at
            if pending:
                for j in pending:
                    replied[j] = at
                pending = []
            if earlier_pending:
                earlier_replied_at, earlier_pending = at, False
            if waiting is None:
                waiting = at
                opened = [at, None, None, None]
                bursts.append(opened)
        else:
            last_out = at
            if waiting is not None:
                seconds = int((at - waiting).total_seconds())
                if opened is None:
                    answered = (at, seconds, m[2])
                else:
                    opened[1], opened[2], opened[3] = at, seconds, m[2]
                waiting = opened = None
            pending.append(i)
        prev_at, last_direction = at, direction
    if not messages:
        return Step(state, [], None, [], None)
    if closed_at is not None and prev_at <= closed_at:
        kept = CLOSED
    else:
        kept = NEEDS_REPLY if last_direction == INBOUND else AWAITING_REPLY
    new = ReplyState(kept, state.message_count + len(messages), prev_at, last_in, last_out,
                     waiting if kept == NEEDS_REPLY else None, closed_at)
    return Step(new, bursts, answered, replied, earlier_replied_at)


def replay(messages, closed_at: datetime | None = None) -> Step:
    """Everything kept about a conversation, from all its messages in (sent_at, id) order."""
    return advance(ReplyState(closed_at=closed_at), messages)


def close(conv: Conversation, at) -> None:
    """No reply needed: the conversation leaves the inbox until a newer message arrives."""
    conv.state = CLOSED
    conv.closed_at = at
    conv.waiting_since = None


# -- storing it --------------------------------------------------------------------------
def apply(conv: Conversation, step: Step, preview: str) -> None:
    """Store a Step worked out from `conv`'s locked, current state for messages appended
    after all its others. The new messages carry their own replied_at (step.replied)."""
    before = ReplyState.of(conv)
    for key, value in step.state.values().items():
        setattr(conv, key, value)
    conv.last_message_preview = preview
    if step.earlier_replied_at is not None:
        stmt = (update(Message)
                .where(Message.conversation_id == conv.id, Message.direction == OUTBOUND,
                       Message.replied_at.is_(None), Message.sent_at <= step.earlier_replied_at,
                       Message.deleted_at.is_(None))
                .values(replied_at=step.earlier_replied_at).returning(Message.id)
                .execution_options(synchronize_session=False))
        if before.last_inbound_at is not None:
            stmt = stmt.where(Message.sent_at >= before.last_inbound_at)
        follow_up_replies(db.session.scalars(stmt).all())
    latest_out = step.state.last_outbound_at
    if latest_out is not None and latest_out != before.last_outbound_at:
        # Appended messages only move it later: the contact's copy moves with it.
        db.session.execute(
            update(Contact).where(Contact.id == conv.contact_id,
                                  or_(Contact.last_outbound_at.is_(None),
                                      Contact.last_outbound_at < latest_out))
            .values(last_outbound_at=latest_out).execution_options(synchronize_session=False))
    if step.answered is not None and before.waiting_since is not None:
        at, seconds, responder = step.answered
        db.session.execute(
            update(ResponseTime)
            .where(ResponseTime.conversation_id == conv.id,
                   ResponseTime.burst_started_at == before.waiting_since,
                   ResponseTime.answered_at.is_(None))
            .values(answered_at=at, response_seconds=seconds, responder_id=responder)
            .execution_options(synchronize_session=False))
    if step.bursts:
        db.session.execute(insert(ResponseTime.__table__), [_burst_row(conv.id, b)
                                                            for b in step.bursts])


def _burst_row(conversation_id: int, b) -> dict:
    return {"conversation_id": conversation_id, "burst_started_at": b[0], "answered_at": b[1],
            "response_seconds": b[2], "responder_id": b[3]}


def replay_new(conversation_id: int, messages) -> tuple[dict, list, list]:
    """`replay` for a conversation that had no messages and was never closed, computed from
    its new messages before they are written, so an import stores replied_at with each row
    and needs no rebuild afterwards.

    `messages`: (direction, sent_at, author_id, body, media) in the order they will be
    inserted, which must be sent_at order (ids follow it, so it is the rebuild's order too).
    Returns (conversation values with the preview, ResponseTime rows, replied_at of each
    message).
    """
    step = replay(messages)
    values = {"id": conversation_id, **step.state.values(),
              "last_message_preview": preview_of(*messages[-1][3:5]) if messages else None}
    return values, [_burst_row(conversation_id, b) for b in step.bursts], step.replied


def follow_up_replies(message_ids) -> None:
    """Automatic follow-ups of these messages take when their DM was answered (the message's
    replied_at; NULL once it is deleted). Most messages have none: one probe of
    uq_tasks_source_message each."""
    ids = sorted(message_ids)
    replied = (select(Message.replied_at).where(Message.id == Task.source_message_id)
               .scalar_subquery())
    for start in range(0, len(ids), BATCH_SIZE):
        db.session.execute(
            update(Task).where(Task.source_message_id.in_(ids[start:start + BATCH_SIZE]))
            .values(source_replied_at=replied).execution_options(synchronize_session=False))


def recount_last_outbound(conversation_ids: list[int]) -> None:
    """The contacts of these conversations take the latest last outbound DM of all their
    conversations (after the conversations' own values are written)."""
    for start in range(0, len(conversation_ids), BATCH_SIZE):
        of_these = (select(Conversation.contact_id)
                    .where(Conversation.id.in_(conversation_ids[start:start + BATCH_SIZE])))
        latest = (select(func.max(Conversation.last_outbound_at))
                  .where(Conversation.contact_id == Contact.id).scalar_subquery())
        db.session.execute(update(Contact).where(Contact.id.in_(of_these))
                           .values(last_outbound_at=latest)
                           .execution_options(synchronize_session=False))


def recount_copies() -> None:
    """Every contact's last outbound DM and every follow-up's answer, recounted from the
    conversations and messages (after a restore, or a load that went around the app)."""
    latest = (select(func.max(Conversation.last_outbound_at))
              .where(Conversation.contact_id == Contact.id).scalar_subquery())
    db.session.execute(update(Contact).values(last_outbound_at=latest)
                       .execution_options(synchronize_session=False))
    replied = (select(Message.replied_at).where(Message.id == Task.source_message_id)
               .scalar_subquery())
    db.session.execute(update(Task).where(Task.source_message_id.is_not(None))
                       .values(source_replied_at=replied)
                       .execution_options(synchronize_session=False))


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
        recount_last_outbound([v["id"] for v in values])


def rebuild_reply_state(conversation_ids) -> None:
    """Recompute reply state, timestamps, counts, ResponseTime rows and Message.replied_at
    by replaying the conversations' messages.

    Works through the ids in batches, streaming only the columns it needs, so it can run over
    every conversation after a bulk import. The conversations are locked first (PostgreSQL),
    so a DM logged meanwhile waits instead of being counted from a state about to change.
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
        select(Conversation.id, Conversation.closed_at).where(Conversation.id.in_(batch))
        .order_by(Conversation.id).with_for_update()).all()
    rows = db.session.execute(
        select(Message.direction, Message.sent_at, Message.author_id, Message.id,
               Message.conversation_id, Message.replied_at)
        # A message the platform reported deleted is left out, as if removed
        # (crm.conversations.ingest.mark_deleted).
        .where(Message.conversation_id.in_(batch), Message.deleted_at.is_(None))
        .order_by(Message.conversation_id, Message.sent_at, Message.id)
        .execution_options(yield_per=5000))
    by_conv = {cid: list(msgs) for cid, msgs in groupby(rows, key=lambda r: r.conversation_id)}
    conv_values, bursts, replied, last_ids = [], [], {}, {}
    for conv_id, closed_at in convs:
        messages = by_conv.get(conv_id, [])
        step = replay(messages, closed_at)
        conv_values.append({"id": conv_id, **step.state.values()})
        bursts.extend(_burst_row(conv_id, b) for b in step.bursts)
        for m, at in zip(messages, step.replied):
            if m.replied_at != at:   # only outbound messages are replied to
                replied[m.id] = at
        last_ids[conv_id] = messages[-1].id if messages else None
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
        convs_table = Conversation.__table__
        db.session.execute(
            update(convs_table).where(convs_table.c.id == bindparam("_id"))
            .values({k: bindparam(f"_{k}") for k in conv_values[0] if k != "id"}),
            [{f"_{k}": v for k, v in values.items()} for values in conv_values])
        recount_last_outbound(batch)
    follow_up_replies(replied)
