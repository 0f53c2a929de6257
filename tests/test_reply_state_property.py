"""Reply state has one definition: adding messages one by one, in any order of arrival, gives
what replaying them all gives — for the pure rule and for the service that stores it."""
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm.conversations import ingest, reply_state
from crm.conversations.ingest import IncomingMessage
from crm.conversations.models import Conversation, Message, ResponseTime
from crm.extensions import db
from tests import factories

T0 = datetime(2025, 3, 1, 9, 0, 0)
# Gaps in seconds: equal times, sub-second and long gaps, as real threads have them.
GAPS = st.sampled_from([0, 0, 1, 30, 3600, 86400 * 3])
MESSAGE = st.tuples(st.sampled_from(["in", "out"]), GAPS, st.sampled_from([None, 3, 4]))


@st.composite
def arrivals(draw, max_size=14):
    """Messages (direction, sent_at, author_id) with their arrival order (a permutation)."""
    at, messages = T0, []
    for direction, gap, author in draw(st.lists(MESSAGE, min_size=1, max_size=max_size)):
        at += timedelta(seconds=gap)
        messages.append((direction, at, author if direction == "out" else None))
    order = draw(st.permutations(range(len(messages))))
    return messages, order


class Store:
    """What the database keeps, simulated: the conversation's state, its messages'
    replied_at, its response times — changed only as reply_state's Step says."""

    def __init__(self):
        self.state = reply_state.ReplyState()
        self.messages = []          # [id, direction, sent_at, author, replied_at]
        self.bursts = []            # [started, answered, seconds, responder]

    def add(self, m):
        mid = len(self.messages) + 1
        if reply_state.in_order(self.state, m[1]):
            step = reply_state.advance(self.state, [m])
            if step.earlier_replied_at is not None:
                for row in self.messages:
                    if row[1] == "out" and row[4] is None and row[2] <= step.earlier_replied_at \
                            and (self.state.last_inbound_at is None
                                 or row[2] >= self.state.last_inbound_at):
                        row[4] = step.earlier_replied_at
            if step.answered is not None:
                for b in self.bursts:
                    if b[0] == self.state.waiting_since and b[1] is None:
                        b[1:] = list(step.answered)
            self.bursts += [list(b) for b in step.bursts]
            self.messages.append([mid, m[0], m[1], m[2], step.replied[0]])
            self.state = step.state
        else:
            self.messages.append([mid, m[0], m[1], m[2], None])
            self.replay()

    def replay(self):
        ordered = sorted(self.messages, key=lambda r: (r[2], r[0]))
        step = reply_state.replay([(r[1], r[2], r[3]) for r in ordered], self.state.closed_at)
        for row, at in zip(ordered, step.replied):
            row[4] = at
        self.bursts = [list(b) for b in step.bursts]
        self.state = step.state

    def snapshot(self):
        return self.state, sorted(map(tuple, self.bursts), key=repr), sorted(
            ((r[0], r[4]) for r in self.messages), key=repr)


@given(arrivals())
@settings(max_examples=400, deadline=None)
def test_any_arrival_order_gives_the_replayed_state(case):
    messages, order = case
    incremental = Store()
    for i in order:
        incremental.add(messages[i])
    # Messages sent at the same moment are ordered by id, i.e. as they arrived.
    replayed = Store()
    replayed.messages = [[n + 1, *messages[i], None] for n, i in enumerate(order)]
    replayed.replay()
    assert incremental.snapshot() == replayed.snapshot()


@given(arrivals(), st.integers(min_value=1, max_value=3))
@settings(max_examples=200, deadline=None)
def test_batches_give_what_single_messages_give(case, size):
    messages, _ = case
    one_by_one = reply_state.ReplyState()
    for m in messages:
        one_by_one = reply_state.advance(one_by_one, [m]).state
    batched = reply_state.ReplyState()
    for start in range(0, len(messages), size):
        batched = reply_state.advance(batched, messages[start:start + size]).state
    assert batched == one_by_one == reply_state.replay(messages).state


def _stored(conv_id):
    conv = db.session.get(Conversation, conv_id)
    bursts = db.session.execute(
        select(ResponseTime.burst_started_at, ResponseTime.answered_at,
               ResponseTime.response_seconds, ResponseTime.responder_id)
        .where(ResponseTime.conversation_id == conv_id)
        .order_by(ResponseTime.burst_started_at, ResponseTime.answered_at)).all()
    replied = db.session.execute(select(Message.sent_at, Message.body, Message.replied_at)
                                 .where(Message.conversation_id == conv_id)
                                 .order_by(Message.sent_at, Message.body)).all()
    return (reply_state.ReplyState.of(conv), conv.last_message_preview, bursts, replied)


@given(arrivals(max_size=8))
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_service_stores_what_a_rebuild_gives_in_any_arrival_order(db, rep, other_rep, case):
    messages, order = case
    ids = [rep.id, other_rep.id]
    contact = factories.ContactFactory(owner_id=rep.id)
    conv = ingest.conversation_for(contact, "instagram", f"t{contact.id}")
    for i in order:
        direction, at, author = messages[i]
        ingest.ingest(None, conv, [IncomingMessage(
            direction, at, f"message {i:02d}",
            author_id=ids[author % 2] if author else None)])
    db.session.flush()
    kept = _stored(conv.id)
    reply_state.rebuild_reply_state([conv.id])
    assert _stored(conv.id) == kept
    assert kept[0].message_count == len(messages)


@given(arrivals(max_size=20), st.lists(st.integers(min_value=0, max_value=6), max_size=8),
       st.one_of(st.none(), st.integers(min_value=0, max_value=20)))
@settings(max_examples=300, deadline=None)
def test_a_replay_folded_chunk_by_chunk_gives_the_replay(case, cuts, closed):
    """What a huge thread's import and rebuild do (reply_state.Replayer): chunks of any size,
    each advanced from the state the ones before left, give what one replay gives — state,
    response times, and every outbound message's replied_at once later chunks settle the
    ones still waiting."""
    messages, _ = case
    closed_at = None if closed is None else T0 + timedelta(seconds=closed * 3600)
    whole = reply_state.replay(messages, closed_at)
    replayer = reply_state.Replayer(closed_at)
    bursts, replied, start = [], [], 0
    for size in [*cuts, len(messages)]:
        chunk = messages[start:start + size]
        step = replayer.add(chunk)
        waiting = [i for i, at in enumerate(replied) if at is None and messages[i][0] == "out"]
        if step.earlier_replied_at is not None:
            # Only the tail of earlier chunks is settled, and all of it.
            assert waiting and all(i >= max((j for j in range(start) if messages[j][0] == "in"),
                                            default=-1) for i in waiting)
            for i in waiting:
                replied[i] = step.earlier_replied_at
        replied += step.replied
        bursts += step.bursts
        start += len(chunk)
    bursts += replayer.finish()
    assert replayer.state == whole.state
    assert [tuple(b) for b in bursts] == [tuple(b) for b in whole.bursts]
    assert replied == whole.replied
