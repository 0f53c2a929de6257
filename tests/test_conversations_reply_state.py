"""Reply state kept on conversations: transitions, first-response times, rebuilds."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.conversations import reply_state, services
from crm.conversations.models import Conversation, Message, ResponseTime
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from tests import factories

H = timedelta(hours=1)


@pytest.fixture
def t0():
    return (utcnow() - timedelta(days=10)).replace(microsecond=0)


@pytest.fixture
def contact(rep):
    return factories.ContactFactory(name="Maya Chen", owner_id=rep.id)


def log(actor, contact, direction, at, **kw):
    return services.log_message(actor, contact, platform=kw.pop("platform", "instagram"),
                                direction=direction, body=kw.pop("body", f"{direction} at {at}"),
                                sent_at=at, **kw)


def bursts(conv):
    rows = db.session.scalars(select(ResponseTime).where(ResponseTime.conversation_id == conv.id)
                              .order_by(ResponseTime.burst_started_at, ResponseTime.id))
    return [(r.burst_started_at, r.answered_at, r.response_seconds, r.responder_id) for r in rows]


def snapshot(db, conv):
    db.session.refresh(conv)
    replied = db.session.execute(select(Message.id, Message.replied_at)
                                 .where(Message.conversation_id == conv.id)
                                 .order_by(Message.id)).all()
    return ((conv.state, conv.message_count, conv.last_message_at, conv.last_inbound_at,
             conv.last_outbound_at, conv.waiting_since, conv.last_message_preview),
            bursts(conv), [tuple(r) for r in replied])


def test_in_out_in_in_out_in_transitions_and_response_times(db, rep, contact, t0):
    m1 = log(rep, contact, "in", t0)
    conv = db.session.get(Conversation, m1.conversation_id)
    assert (conv.state, conv.waiting_since, conv.message_count) == ("needs_reply", t0, 1)

    out1 = log(rep, contact, "out", t0 + H)
    assert (conv.state, conv.waiting_since) == ("awaiting_reply", None)
    assert bursts(conv) == [(t0, t0 + H, 3600, rep.id)]

    log(rep, contact, "in", t0 + 3 * H)
    assert conv.state == "needs_reply" and conv.waiting_since == t0 + 3 * H
    db.session.refresh(out1)
    assert out1.replied_at == t0 + 3 * H

    log(rep, contact, "in", t0 + 4 * H)       # same burst: the wait still started at 3 h
    assert conv.waiting_since == t0 + 3 * H
    assert len(bursts(conv)) == 2

    out2 = log(rep, contact, "out", t0 + 6 * H)
    out3 = log(rep, contact, "out", t0 + 7 * H)
    assert bursts(conv)[1] == (t0 + 3 * H, t0 + 6 * H, 3 * 3600, rep.id)
    assert conv.state == "awaiting_reply"

    log(rep, contact, "in", t0 + 30 * H, body="Sounds good!")
    db.session.refresh(out2)
    db.session.refresh(out3)
    assert out2.replied_at == out3.replied_at == t0 + 30 * H
    assert (conv.state, conv.message_count, conv.last_message_at, conv.last_inbound_at,
            conv.last_outbound_at, conv.waiting_since) == (
        "needs_reply", 7, t0 + 30 * H, t0 + 30 * H, t0 + 7 * H, t0 + 30 * H)
    assert conv.last_message_preview == "Sounds good!"
    assert bursts(conv)[2] == (t0 + 30 * H, None, None, None)


def test_rebuild_gives_exactly_what_the_incremental_path_kept(db, rep, other_rep, contact, t0):
    for i, (direction, actor) in enumerate([("out", rep), ("out", other_rep), ("in", rep),
                                            ("in", rep), ("out", other_rep), ("in", rep),
                                            ("out", rep), ("out", rep)]):
        m = log(actor, contact, direction, t0 + i * 90 * timedelta(minutes=1))
    conv = db.session.get(Conversation, m.conversation_id)
    kept = snapshot(db, conv)
    # Spoil everything kept, as a bulk import that wrote raw rows would leave it.
    conv.state, conv.message_count, conv.waiting_since = "closed", 0, None
    db.session.execute(ResponseTime.__table__.delete())
    db.session.execute(Message.__table__.update().values(replied_at=None))
    services.rebuild_reply_state([conv.id])
    assert snapshot(db, conv) == kept


def test_a_backdated_message_recomputes_the_conversation(db, rep, contact, t0):
    log(rep, contact, "in", t0 + 10 * H)
    m = log(rep, contact, "out", t0 + 12 * H)
    conv = db.session.get(Conversation, m.conversation_id)
    log(rep, contact, "in", t0 + H)            # logged late: earlier than the others
    db.session.refresh(conv)
    assert (conv.state, conv.message_count, conv.last_message_at) == (
        "awaiting_reply", 3, t0 + 12 * H)
    # One burst from 1 h to 10 h, answered at 12 h: 11 hours.
    assert bursts(conv) == [(t0 + H, t0 + 12 * H, 11 * 3600, rep.id)]


def test_closing_ends_the_burst_and_a_new_inbound_starts_a_new_one(db, rep, contact, t0):
    m = log(rep, contact, "in", t0)
    conv = db.session.get(Conversation, m.conversation_id)
    services.close_conversation(rep, conv)
    assert (conv.state, conv.waiting_since) == ("closed", None)
    assert services.needs_reply_count(rep) == 0
    # A new message after the close reopens it with a fresh wait.
    conv.closed_at = t0 + H
    log(rep, contact, "in", t0 + 2 * H)
    assert (conv.state, conv.waiting_since) == ("needs_reply", t0 + 2 * H)
    log(rep, contact, "out", t0 + 3 * H)
    expected = [(t0, None, None, None), (t0 + 2 * H, t0 + 3 * H, 3600, rep.id)]
    assert bursts(conv) == expected
    services.rebuild_reply_state([conv.id])
    assert bursts(conv) == expected


def test_reopen_restores_the_state_of_the_latest_message(db, rep, contact, t0):
    m = log(rep, contact, "in", t0)
    conv = db.session.get(Conversation, m.conversation_id)
    services.close_conversation(rep, conv)
    services.reopen_conversation(rep, conv)
    assert (conv.state, conv.waiting_since, conv.closed_at) == ("needs_reply", t0, None)


def test_editing_and_deleting_recompute_the_state(db, rep, contact, t0):
    log(rep, contact, "out", t0)
    last = log(rep, contact, "in", t0 + H)
    conv = db.session.get(Conversation, last.conversation_id)
    services.edit_message(rep, last, body="Actually we wrote this", direction="out",
                          sent_at=last.sent_at)
    db.session.refresh(conv)
    assert conv.state == "awaiting_reply" and bursts(conv) == []
    services.delete_message(rep, last)
    db.session.refresh(conv)
    assert (conv.state, conv.message_count, conv.last_message_at) == ("awaiting_reply", 1, t0)
    first = db.session.scalars(select(Message)).one()
    services.delete_message(rep, first)
    db.session.refresh(conv)
    assert (conv.state, conv.message_count, conv.last_message_at) == ("closed", 0, None)


def test_appending_does_not_read_the_history(db, rep, contact, t0, count_queries):
    first = log(rep, contact, "in", t0)
    conv = db.session.get(Conversation, first.conversation_id)

    def queries_to_append(at):
        db.session.commit()
        with count_queries() as q:
            log(rep, contact, "out", at)
            log(rep, contact, "in", at + timedelta(minutes=1))
        return q.count

    small = queries_to_append(t0 + H)
    factories.MessageFactory.create_batch(300, conversation=conv, direction="in",
                                          sent_at=t0 + 2 * H)
    conv.last_message_at = t0 + 2 * H
    assert queries_to_append(t0 + 3 * H) == small


def test_rebuild_works_through_many_conversations_in_batches(db, rep, monkeypatch, t0):
    monkeypatch.setattr(reply_state, "BATCH_SIZE", 2)
    convs = []
    for i in range(5):
        conv = factories.ConversationFactory(contact=factories.ContactFactory(owner_id=rep.id))
        directions = ["out", "in"] if i % 2 else ["in", "in", "out", "in"]
        for j, d in enumerate(directions):
            factories.MessageFactory(conversation=conv, direction=d, sent_at=t0 + j * H,
                                     body=f"{d}{j}")
        convs.append(conv)
    services.rebuild_reply_state([c.id for c in convs])
    for i, conv in enumerate(convs):
        db.session.refresh(conv)
        if i % 2:
            assert (conv.state, conv.waiting_since, conv.message_count) == (
                "needs_reply", t0 + H, 2)
            assert bursts(conv) == [(t0 + H, None, None, None)]
        else:
            assert (conv.state, conv.waiting_since, conv.message_count) == ("needs_reply",
                                                                            t0 + 3 * H, 4)
            assert bursts(conv) == [(t0, t0 + 2 * H, 7200, None), (t0 + 3 * H, None, None, None)]
            assert conv.last_message_preview == "in3"
    assert services.needs_reply_count(rep) == 5


def test_get_or_create_conversation_is_idempotent(db, contact):
    a = services.get_or_create_conversation(contact, "tiktok", "thread-9", title="Maya",
                                            is_group=False)
    b = services.get_or_create_conversation(contact, "tiktok", "thread-9")
    assert a.id == b.id and a.title == "Maya"
    assert services.get_or_create_conversation(contact, "tiktok").id != a.id
    with pytest.raises(ValidationFailed) as e:
        services.get_or_create_conversation(contact, "myspace")
    assert e.value.field == "platform"
    assert db.session.scalar(select(func.count()).select_from(Conversation)) == 2
