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
(sent_at, id) order. The database side (`apply`, `rebuild_reply_state`, `write_replayed`) only
stores what `advance` works out, and the two copies others read, in the same transaction:
each contact's latest outbound DM (contacts.last_outbound_at, for the dashboard's "unknown
consent in outreach") and when an automatic follow-up's DM was answered
(tasks.source_replied_at, for "follow-ups followed by a reply"); and what changed in the
dashboard's counts (crm.contacts.dm_counts): messages replied to, response times written,
answered or replayed. `Replayer` folds `advance` a chunk at a time over a conversation of
any length.
"""
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby

from sqlalchemy import bindparam, delete, func, insert, or_, select, update

from crm.contacts import dm_counts
from crm.contacts.models import Contact
from crm.conversations.models import (AWAITING_REPLY, CLOSED, INBOUND, MEDIA_LABELS, NEEDS_REPLY,
                                      OUTBOUND, Conversation, Message, ResponseTime)
from crm.core.cache import OUTREACH
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
    # Start of the inbound burst still open after the new messages, even when a close later
    # than them keeps the conversation closed (state.waiting_since is None then).
    open_since: datetime | None = None


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
    return Step(new, bursts, answered, replied, earlier_replied_at, waiting)


def replay(messages, closed_at: datetime | None = None) -> Step:
    """Everything kept about a conversation, from all its messages in (sent_at, id) order."""
    return advance(ReplyState(closed_at=closed_at), messages)


@dataclass(slots=True)
class Chunk:
    """What `Replayer.add` worked out for one chunk of a conversation's messages."""

    # Response times that ended in this chunk or before: [started_at, answered_at, seconds,
    # responder]. A burst still open at the chunk's end waits in the Replayer.
    bursts: list
    # Per message: for an outbound one, when the contact next wrote; None for outbound
    # messages still waiting at the chunk's end (the `tail`: a later chunk may answer them).
    replied: list
    # Outbound messages of earlier chunks that were still waiting at their end were replied to
    # then (the first inbound message of this chunk); None when there were none.
    earlier_replied_at: datetime | None
    # How many messages at the end of this chunk are outbound and still waiting.
    tail: int


class Replayer:
    """`replay` one conversation a chunk of messages at a time, so that a conversation of any
    length is replayed in bounded memory: each chunk is `advance`d from the state the chunks
    before it left, which gives what one replay of them all gives (the reply state's
    contract; tests/test_reply_state_property.py holds it for this fold too).

    Chunks come in (sent_at, id) order and may have any size, empty ones included."""

    def __init__(self, closed_at: datetime | None = None):
        self.state = ReplyState(closed_at=closed_at)
        self._open = None            # the burst open at the end of the chunks so far
        # When it started: kept apart from state.waiting_since, which a later close hides.
        self._open_since = None
        self._tail = False           # outbound messages of earlier chunks still wait

    def add(self, messages) -> Chunk:
        if not messages:
            return Chunk([], [], None, 0)
        step = advance(replace(self.state, waiting_since=self._open_since), messages)
        self._open_since = step.open_since
        done = []
        held, self._open = self._open, None
        if held is not None:
            if step.answered is not None:
                held[1], held[2], held[3] = step.answered
                done.append(held)
            elif step.open_since == held[0] and not step.bursts:
                self._open = held      # nobody has answered it yet
            else:
                done.append(held)      # a close ended it, unanswered
        bursts = step.bursts
        if bursts and bursts[-1][1] is None and step.open_since == bursts[-1][0]:
            self._open = bursts[-1]
            bursts = bursts[:-1]
        done.extend(bursts)
        tail = 0
        for m, at in zip(reversed(messages), reversed(step.replied)):
            if m[0] == INBOUND or at is not None:
                break
            tail += 1
        earlier = step.earlier_replied_at if self._tail else None
        self._tail = tail > 0 or (self._tail and not any(m[0] == INBOUND for m in messages))
        self.state = step.state
        return Chunk(done, step.replied, earlier, tail)

    def finish(self) -> list:
        """The burst still open after the last chunk (it stays unanswered), if any."""
        held, self._open = self._open, None
        return [held] if held is not None else []


def close(conv: Conversation, at) -> None:
    """No reply needed: the conversation leaves the inbox until a newer message arrives."""
    conv.state = CLOSED
    conv.closed_at = at
    conv.waiting_since = None


# -- storing it --------------------------------------------------------------------------
def apply(conv: Conversation, step: Step, preview: str, counts: dm_counts.Change,
          writes: "Writes") -> None:
    """Store a Step worked out from `conv`'s locked, current state for messages appended
    after all its others. The new messages carry their own replied_at (step.replied); what
    changed for the dashboard is added to `counts` (the caller writes it). The conversation's
    columns are set here; the rows around it that the step changes (earlier messages now
    replied to, the response times, the contact's latest outbound DM) wait in `writes`,
    shared by the conversations of a batch, until its `run`."""
    before = ReplyState.of(conv)
    for key, value in step.state.values().items():
        setattr(conv, key, value)
    conv.last_message_preview = preview
    if step.earlier_replied_at is not None:
        writes.replied.append((conv.id, step.earlier_replied_at, before.last_inbound_at,
                               counts))
    latest_out = step.state.last_outbound_at
    if latest_out is not None and latest_out != before.last_outbound_at:
        # Appended messages only move it later: the contact's copy moves with it.
        writes.last_outbound[conv.contact_id] = max(
            latest_out, writes.last_outbound.get(conv.contact_id, latest_out))
    if step.answered is not None and before.waiting_since is not None:
        writes.answered.append((conv.id, before.waiting_since, step.answered, counts))
    for b in step.bursts:
        writes.bursts.append(_burst_row(conv.id, b))
        counts.response(*b)


_contacts = Contact.__table__
_MOVE_LAST_OUTBOUND = (
    update(_contacts)
    .where(_contacts.c.id == bindparam("contact"),
           or_(_contacts.c.last_outbound_at.is_(None),
               _contacts.c.last_outbound_at < bindparam("latest")))
    .values(last_outbound_at=bindparam("latest"))
    .execution_options(changes=OUTREACH))


# The outbound messages a reply answers: those since the last inbound one before it
# (True), or all unanswered ones (False, nothing came in before). Built once, as each of
# the writes below: a DM that answers runs one of them.
_MARK_REPLIED = {
    since: (update(Message)
            .where(Message.conversation_id == bindparam("conversation"),
                   Message.direction == OUTBOUND, Message.replied_at.is_(None),
                   Message.sent_at <= bindparam("replied_at"), Message.deleted_at.is_(None),
                   *([Message.sent_at >= bindparam("after")] if since else []))
            .values(replied_at=bindparam("replied_at"))
            .returning(Message.id, Message.sent_at, Message.author_id, Message.template_id)
            .execution_options(synchronize_session=False))
    for since in (True, False)}

# A burst of inbound messages answered: its open response time closed.
_ANSWER_BURST = (
    update(ResponseTime)
    .where(ResponseTime.conversation_id == bindparam("conversation"),
           ResponseTime.burst_started_at == bindparam("started"),
           ResponseTime.answered_at.is_(None))
    .values(answered_at=bindparam("at"), response_seconds=bindparam("seconds"),
            responder_id=bindparam("responder"))
    .returning(ResponseTime.burst_started_at)
    .execution_options(synchronize_session=False))


class Writes:
    """What `apply` leaves for after a batch's conversations are set, so that they are
    written together (one flush) and each kind of row around them in as few statements."""

    def __init__(self):
        # (conversation id, first reply, last inbound before, counts): outbound messages
        # stored before and answered now.
        self.replied: list = []
        # (conversation id, burst started at, (answered at, seconds, responder), counts)
        self.answered: list = []
        self.last_outbound: dict = {}    # contact id: latest outbound DM among the new
        self.bursts: list = []           # response times that started

    def run(self) -> None:
        db.session.flush()
        answered_ids = []
        for conv_id, replied_at, last_inbound_at, counts in self.replied:
            params = {"conversation": conv_id, "replied_at": replied_at}
            if last_inbound_at is not None:
                params["after"] = last_inbound_at
            for message_id, sent_at, author_id, template_id in db.session.execute(
                    _MARK_REPLIED[last_inbound_at is not None], params):
                counts.replied(sent_at, author_id, template_id)
                answered_ids.append(message_id)
        if answered_ids:
            follow_up_replies(answered_ids)
        if self.last_outbound:
            db.session.execute(_MOVE_LAST_OUTBOUND, [
                {"contact": contact_id, "latest": at}
                for contact_id, at in sorted(self.last_outbound.items())])
        for conv_id, started, (at, seconds, responder), counts in self.answered:
            for (started_at,) in db.session.execute(_ANSWER_BURST, {
                    "conversation": conv_id, "started": started, "at": at,
                    "seconds": seconds, "responder": responder}).all():
                counts.response(started_at, None, None, None, -1)
                counts.response(started_at, at, seconds, responder)
        if self.bursts:
            db.session.execute(insert(ResponseTime.__table__), self.bursts)


def _burst_row(conversation_id: int, b) -> dict:
    return {"conversation_id": conversation_id, "burst_started_at": b[0], "answered_at": b[1],
            "response_seconds": b[2], "responder_id": b[3]}


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
                           .execution_options(synchronize_session=False, changes=OUTREACH))


def recount_copies() -> None:
    """Every contact's last outbound DM and every follow-up's answer, recounted from the
    conversations and messages (after a restore, or a load that went around the app)."""
    latest = (select(func.max(Conversation.last_outbound_at))
              .where(Conversation.contact_id == Contact.id).scalar_subquery())
    db.session.execute(update(Contact).values(last_outbound_at=latest)
                       .execution_options(synchronize_session=False, changes=OUTREACH))
    replied = (select(Message.replied_at).where(Message.id == Task.source_message_id)
               .scalar_subquery())
    db.session.execute(update(Task).where(Task.source_message_id.is_not(None))
                       .values(source_replied_at=replied)
                       .execution_options(synchronize_session=False))


def write_replayed(values: list[dict], bursts: list[dict]) -> None:
    """Store reply state worked out before its messages were written (an import's readers):
    conversation columns and ResponseTime rows.

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

    Works through the ids in batches, and through their messages a page at a time (a
    `Replayer` per conversation), so memory stays bounded whatever the number of
    conversations or the length of one. The conversations are locked first (PostgreSQL), so
    a DM logged meanwhile waits instead of being counted from a state about to change.
    What a batch counts for on the dashboard is read before its replay and after it, and the
    difference written (crm.contacts.dm_counts).
    """
    ids = sorted({int(i) for i in conversation_ids})
    if not ids:
        return
    db.session.flush()
    for start in range(0, len(ids), BATCH_SIZE):
        _Rebuild(ids[start:start + BATCH_SIZE]).run()
    # The bulk statements bypass the identity map; reload whatever the caller holds.
    db.session.expire_all()


PAGE_ROWS = 5000
_messages = Message.__table__
# (direction, sent_at, author_id) first, as `advance` reads them.
_PAGE_COLUMNS = (Message.direction, Message.sent_at, Message.author_id, Message.id,
                 Message.conversation_id, Message.replied_at)
_SET_REPLIED = (update(_messages).where(_messages.c.id == bindparam("_id"))
                .values(replied_at=bindparam("_replied_at")))
_SET_STATE = (update(Conversation.__table__)
              .where(Conversation.__table__.c.id == bindparam("_id"))
              .values({k: bindparam(f"_{k}")
                       for k in (*ReplyState().values(), "last_message_preview")}))


def _later_than(key, table=Message) -> tuple:
    """Conditions for messages after (sent_at, id) `key` in their conversation's order,
    written so that both databases read them through the (conversation_id, sent_at, id)
    index."""
    sent_at, mid = key
    return (table.sent_at >= sent_at, or_(table.sent_at > sent_at, table.id > mid))


class _Rebuild:
    """One batch of conversations replayed from the table, a page of messages at a time.

    Outbound messages still waiting at the end of a page (a conversation's tail) are settled
    once a later page answers them or the conversation ends: by id when the run is short, by
    their (sent_at, id) range when a run of outbound messages outgrows a page. What changed
    is written after each page."""

    def __init__(self, batch: list[int]):
        self.batch = batch
        self.values: list[dict] = []
        self.bursts: list[dict] = []
        self.replied: dict[int, datetime | None] = {}
        self.last_ids: dict[int, int] = {}
        self.conv_id = self.replayer = None
        self.tail: list = []          # (id, stored replied_at) of waiting outbound messages
        self.tail_range = None        # [after (sent_at, id) or None, up to (sent_at, id)]
        self.last_inbound = None      # (sent_at, id) of the conversation's latest inbound

    def run(self) -> None:
        convs = db.session.execute(
            select(Conversation.id, Conversation.closed_at).where(Conversation.id.in_(self.batch))
            .order_by(Conversation.id).with_for_update()).all()
        closed = dict(convs)
        dm_counts.add_conversations(self.batch, sign=-1)   # what they counted for until now
        db.session.execute(delete(ResponseTime).where(ResponseTime.conversation_id.in_(self.batch)))
        for page in self._pages():
            for conv_id, rows in groupby(page, key=lambda r: r.conversation_id):
                if conv_id != self.conv_id:
                    self._finish()
                    self._start(conv_id, closed.pop(conv_id))
                self._add(list(rows))
            self._write()   # between pages, while no statement is reading
        self._finish()
        for conv_id, closed_at in closed.items():   # conversations without messages
            self._start(conv_id, closed_at)
            self._finish()
        self._write()
        previews = {}
        wanted = list(self.last_ids.values())
        if wanted:
            for mid, body, media in db.session.execute(
                    select(Message.id, Message.body, Message.media).where(Message.id.in_(wanted))):
                previews[mid] = preview_of(body, media)
        for values in self.values:
            values["last_message_preview"] = previews.get(self.last_ids.get(values["id"]))
        if self.values:
            db.session.execute(_SET_STATE, [{f"_{k}": v for k, v in values.items()}
                                            for values in self.values])
            recount_last_outbound(self.batch)
        dm_counts.add_conversations(self.batch)            # and what they count for now

    def _pages(self):
        """The batch's messages in (conversation, sent_at, id) order, as lists of PAGE_ROWS
        at most; a long conversation goes on in the next ones."""
        remaining, after = self.batch, None
        while remaining or after:
            # A message the platform reported deleted is left out, as if removed
            # (crm.conversations.ingest.mark_deleted).
            stmt = (select(*_PAGE_COLUMNS).where(Message.deleted_at.is_(None))
                    .order_by(Message.conversation_id, Message.sent_at, Message.id)
                    .limit(PAGE_ROWS))
            if after is None:
                stmt = stmt.where(Message.conversation_id.in_(remaining))
            else:   # the rest of the conversation the last page ended in
                stmt = stmt.where(Message.conversation_id == after[0], *_later_than(after[1:]))
            page = db.session.execute(stmt).all()
            if page:
                yield page
            if len(page) == PAGE_ROWS:
                last = page[-1]
                after = (last.conversation_id, last.sent_at, last.id)
                remaining = [c for c in remaining if c > last.conversation_id]
            elif after is None:
                return
            else:
                after = None   # that conversation has ended; on with the others

    def _start(self, conv_id: int, closed_at) -> None:
        self.conv_id, self.replayer = conv_id, Replayer(closed_at)
        self.tail, self.tail_range, self.last_inbound = [], None, None

    def _add(self, rows: list) -> None:
        chunk = self.replayer.add(rows)
        if chunk.earlier_replied_at is not None:
            self._settle_tail(chunk.earlier_replied_at)
        settled = len(rows) - chunk.tail
        for m, at in zip(rows[:settled], chunk.replied):
            if m.replied_at != at:   # only outbound messages are replied to
                self.replied[m.id] = at
            if m.direction == INBOUND:
                self.last_inbound = (m.sent_at, m.id)
        if chunk.tail:
            if self.tail_range is None:
                self.tail.extend((m.id, m.replied_at) for m in rows[settled:])
                if len(self.tail) > PAGE_ROWS:   # a long run of outbound messages: its bounds
                    self.tail_range, self.tail = [self.last_inbound, None], []
            if self.tail_range is not None:
                self.tail_range[1] = (rows[-1].sent_at, rows[-1].id)
        self.bursts.extend(_burst_row(self.conv_id, b) for b in chunk.bursts)
        self.last_ids[self.conv_id] = rows[-1].id

    def _settle_tail(self, at) -> None:
        """The waiting outbound messages were replied to `at` (None: never)."""
        for mid, stored in self.tail:
            if stored != at:
                self.replied[mid] = at
        if self.tail_range is not None:
            after, (sent_at, mid) = self.tail_range
            stmt = (update(_messages)
                    .where(_messages.c.conversation_id == self.conv_id,
                           _messages.c.direction == OUTBOUND, _messages.c.sent_at <= sent_at,
                           or_(_messages.c.sent_at < sent_at, _messages.c.id <= mid),
                           _messages.c.deleted_at.is_(None))
                    .values(replied_at=at).returning(_messages.c.id))
            if after is not None:
                stmt = stmt.where(*_later_than(after, _messages.c))
            follow_up_replies(db.session.scalars(stmt).all())
        self.tail, self.tail_range = [], None

    def _finish(self) -> None:
        if self.replayer is None:
            return
        if self.tail or self.tail_range is not None:
            self._settle_tail(None)
        self.bursts.extend(_burst_row(self.conv_id, b) for b in self.replayer.finish())
        self.values.append({"id": self.conv_id, **self.replayer.state.values()})
        self.conv_id = self.replayer = None

    def _write(self) -> None:
        """What changed so far: response times and replied_at (plain executemany)."""
        if self.bursts:
            db.session.execute(insert(ResponseTime.__table__), self.bursts)
            self.bursts = []
        if self.replied:
            db.session.execute(_SET_REPLIED, [{"_id": k, "_replied_at": v}
                                              for k, v in self.replied.items()])
            follow_up_replies(self.replied)
            self.replied = {}
