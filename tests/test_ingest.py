"""The ingestion service: every road's messages, duplicates, bad input, consent, receipts."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from crm.conversations import ingest
from crm.conversations.ingest import IncomingMessage
from crm.conversations.models import INBOUND, OUTBOUND, Conversation, Message, ResponseTime
from crm.core.errors import OutreachRefused, ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from tests import factories

H = timedelta(hours=1)


@pytest.fixture
def t0():
    return (utcnow() - timedelta(days=3)).replace(microsecond=0)


@pytest.fixture
def conv(rep):
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    return ingest.conversation_for(contact, "instagram", "thread-1")


def stored(conv):
    return db.session.scalar(select(func.count()).select_from(Message)
                             .where(Message.conversation_id == conv.id))


def test_many_messages_at_once_keep_reply_state_and_response_times(db, rep, conv, t0):
    result = ingest.ingest(None, conv, [
        IncomingMessage(INBOUND, t0, "hi", external_id="m1"),
        IncomingMessage(OUTBOUND, t0 + H, "hello", external_id="m2", author_id=rep.id),
        IncomingMessage(INBOUND, t0 + 2 * H, "great", external_id="m3"),
    ], source=ingest.LIVE)
    assert len(result.added) == 3 and result.duplicates == 0
    conv = db.session.get(Conversation, conv.id)
    assert (conv.state, conv.message_count, conv.waiting_since) == ("needs_reply", 3, t0 + 2 * H)
    assert conv.last_message_preview == "great"
    answered = db.session.execute(select(ResponseTime.burst_started_at,
                                         ResponseTime.response_seconds)
                                  .order_by(ResponseTime.burst_started_at)).all()
    assert answered == [(t0, 3600), (t0 + 2 * H, None)]
    assert result.added[1].replied_at == t0 + 2 * H


def test_a_repeated_platform_id_or_fingerprint_is_skipped_and_counted(db, conv, t0):
    ingest.ingest(None, conv, [IncomingMessage(INBOUND, t0, "hi", external_id="m1"),
                               IncomingMessage(INBOUND, t0 + H, "again", fingerprint="f1")],
                  source=ingest.IMPORT)
    again = ingest.ingest(None, conv, [
        IncomingMessage(INBOUND, t0, "hi", external_id="m1"),
        IncomingMessage(INBOUND, t0 + H, "again", fingerprint="f1"),
        IncomingMessage(INBOUND, t0 + 2 * H, "new", external_id="m2"),
        IncomingMessage(INBOUND, t0 + 2 * H, "new", external_id="m2"),   # twice in one batch
    ], source=ingest.LIVE)
    assert (len(again.added), again.duplicates) == (1, 3)
    assert stored(conv) == 3
    assert db.session.get(Conversation, conv.id).message_count == 3


def test_the_database_refuses_a_duplicate_the_service_did_not_see(db, conv, t0):
    db.session.add(Message(conversation_id=conv.id, direction="in", sent_at=t0, body="a",
                           external_id="m1"))
    db.session.flush()
    db.session.add(Message(conversation_id=conv.id, direction="in", sent_at=t0, body="a",
                           external_id="m1"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("bad, field", [
    (IncomingMessage("sideways", None, "x"), "direction"),
    (IncomingMessage(INBOUND, utcnow() + timedelta(days=1), "x"), "sent_at"),
    (IncomingMessage(INBOUND, None, "x" * (ingest.MAX_BODY + 1)), "body"),
    (IncomingMessage(INBOUND, None, "bad\x00byte"), "body"),
    (IncomingMessage(INBOUND, None, "x", media="hologram"), "media"),
])
def test_a_malformed_message_refuses_the_whole_batch_naming_the_field(db, conv, t0, bad, field):
    batch = [IncomingMessage(INBOUND, t0, "fine", external_id="ok"), bad]
    with pytest.raises(ValidationFailed) as e:
        ingest.ingest(None, conv, batch, source=ingest.API)
    assert e.value.field == field and "Message 2" in e.value.message
    assert stored(conv) == 0


def test_an_unknown_platform_is_refused(db, rep):
    contact = factories.ContactFactory(owner_id=rep.id)
    with pytest.raises(ValidationFailed) as e:
        ingest.conversation_for(contact, "myspace")
    assert e.value.field == "platform"


def test_consent_gate_applies_to_messages_written_in_rapport_only(db, rep, conv, t0):
    conv.contact.consent_status = "opted_out"
    echo = IncomingMessage(OUTBOUND, t0, "sent from the phone", external_id="e1")
    assert len(ingest.ingest(None, conv, [echo], source=ingest.LIVE).added) == 1
    written = IncomingMessage(OUTBOUND, t0 + H, "pitch", author_id=rep.id,
                              written_in_rapport=True)
    with pytest.raises(OutreachRefused):
        ingest.ingest(rep, conv, [written], source=ingest.API)
    assert stored(conv) == 1


def test_an_inbound_opt_out_flags_the_conversation_on_every_road(db, conv, t0):
    result = ingest.ingest(None, conv, [IncomingMessage(INBOUND, t0, "Please stop messaging me",
                                                        external_id="s1")],
                           source=ingest.LIVE)
    assert result.opt_out is not None
    assert db.session.get(Conversation, conv.id).opt_out_message_id == result.added[0].id


def test_a_backdated_message_replays_the_conversation(db, rep, conv, t0):
    ingest.ingest(None, conv, [IncomingMessage(INBOUND, t0 + 2 * H, "later")])
    ingest.ingest(None, conv, [IncomingMessage(OUTBOUND, t0, "earlier", author_id=rep.id)])
    conv = db.session.get(Conversation, conv.id)
    assert (conv.state, conv.message_count, conv.last_outbound_at) == ("needs_reply", 2, t0)


def test_delivery_status_only_moves_forward_and_failure_keeps_its_error(db, rep, conv, t0):
    ingest.ingest(None, conv, [IncomingMessage(OUTBOUND, t0, "hi", external_id="w1")])
    assert ingest.update_status(conv, "w1", "read")
    assert ingest.update_status(conv, "w1", "delivered")   # late receipt: no step back
    m = db.session.scalars(select(Message)).one()
    assert m.delivery_status == "read"
    ingest.update_status(conv, "w1", "failed", error="131047: re-engagement window")
    assert (m.delivery_status, m.delivery_error) == ("failed", "131047: re-engagement window")
    assert not ingest.update_status(conv, "unknown", "read")
    with pytest.raises(ValidationFailed):
        ingest.update_status(conv, "w1", "teleported")


def test_deleted_on_the_platform_is_kept_marked_and_no_longer_counts(db, rep, conv, t0):
    ingest.ingest(None, conv, [IncomingMessage(INBOUND, t0, "hi", external_id="m1"),
                               IncomingMessage(INBOUND, t0 + H, "stop messaging me",
                                               external_id="m2")])
    conv = db.session.get(Conversation, conv.id)
    assert conv.opt_out_message_id is not None
    assert ingest.mark_deleted(conv, "m2") == ingest.MARKED
    assert ingest.mark_deleted(conv, "m2") == ingest.ALREADY_DELETED     # Meta's retry
    gone = db.session.scalars(select(Message).where(Message.external_id == "m2")).one()
    assert gone.deleted_at is not None and gone.body == ""
    conv = db.session.get(Conversation, conv.id)
    # As a removal replays it: not counted, not the preview, no longer opt-out evidence.
    assert (conv.message_count, conv.last_message_at, conv.last_message_preview,
            conv.opt_out_message_id) == (1, t0, "hi", None)
    assert stored(conv) == 2


def test_an_unsent_question_no_longer_waits_and_an_unsent_answer_no_longer_answers(
        db, rep, conv, t0):
    ingest.ingest(None, conv, [
        IncomingMessage(OUTBOUND, t0, "pitch", external_id="o1", author_id=rep.id),
        IncomingMessage(INBOUND, t0 + H, "price?", external_id="i1"),
        IncomingMessage(OUTBOUND, t0 + 2 * H, "100", external_id="o2", author_id=rep.id)])
    ingest.mark_deleted(conv, "o2", direction=OUTBOUND)
    conv = db.session.get(Conversation, conv.id)
    assert (conv.state, conv.waiting_since) == ("needs_reply", t0 + H)
    [burst] = db.session.scalars(select(ResponseTime)).all()
    assert burst.answered_at is None
    ingest.mark_deleted(conv, "i1")
    conv = db.session.get(Conversation, conv.id)
    assert (conv.state, conv.message_count, conv.waiting_since) == ("awaiting_reply", 1, None)
    assert db.session.scalars(select(ResponseTime)).all() == []
    first = db.session.scalars(select(Message).where(Message.external_id == "o1")).one()
    assert first.replied_at is None


def test_a_delete_before_its_message_keeps_the_message_deleted(db, rep, conv, t0):
    assert ingest.mark_deleted(conv, "m9", at=t0) == ingest.DELETED_AHEAD
    assert ingest.mark_deleted(conv, "m9", at=t0) == ingest.ALREADY_DELETED
    result = ingest.ingest(None, conv, [IncomingMessage(INBOUND, t0, "secret", external_id="m9")],
                           source=ingest.LIVE)
    assert (result.added, result.duplicates) == ([], 1)
    [row] = db.session.scalars(select(Message)).all()
    assert row.deleted_at is not None and row.body == "" and row.direction == INBOUND
    conv = db.session.get(Conversation, conv.id)
    assert (conv.state, conv.message_count) == ("closed", 0)


def test_a_deleted_message_cannot_be_corrected(db, rep, conv, t0):
    ingest.ingest(None, conv, [IncomingMessage(INBOUND, t0, "hi", external_id="m1")])
    ingest.mark_deleted(conv, "m1")
    message = db.session.scalars(select(Message)).one()
    with pytest.raises(ValidationFailed, match="deleted"):
        ingest.correct(message, body="restored", direction=INBOUND, sent_at=t0)
    assert db.session.get(Message, message.id).body == ""


def test_two_creations_of_one_conversation_give_the_same_row(db, rep):
    contact = factories.ContactFactory(owner_id=rep.id)
    first = ingest.conversation_for(contact, "x", "t")
    assert ingest.conversation_for(contact, "x", "t").id == first.id


def test_the_import_opt_out_check_finds_what_find_stop_phrase_finds():
    import random

    from crm.conversations.optout import StopPhrases, find_stop_phrase
    from crm.settings.services import DEFAULT_STOP_PHRASES as phrases

    check = StopPhrases(phrases)
    texts = ["Please STOP.", "unstoppable", "stopover", "Not   interested", "Don’t message me",
             "don`t message me", "Stöp", "café, not interested", "opt-out", "optout",
             "no more messagesx", "no more messages!", "removed me", ""]
    rng = random.Random(7)
    texts += ["".join(rng.choice("stop optunsbcrie-'’ mnÖ") for _ in range(rng.randint(0, 25)))
              for _ in range(3000)]
    for text in texts:
        assert check.found_in(text) == bool(find_stop_phrase(text, phrases)), text


def _kept(conv_ids):
    """What the services keep about these conversations, read back from the database."""
    db.session.expire_all()
    convs = [(c.state, c.message_count, c.last_message_at, c.last_inbound_at,
              c.last_outbound_at, c.waiting_since, c.contact.last_outbound_at)
             for c in db.session.scalars(select(Conversation).where(Conversation.id.in_(conv_ids))
                                         .order_by(Conversation.id))]
    times = db.session.execute(select(ResponseTime.conversation_id, ResponseTime.burst_started_at,
                                      ResponseTime.answered_at, ResponseTime.response_seconds,
                                      ResponseTime.responder_id)
                               .order_by(ResponseTime.conversation_id,
                                         ResponseTime.burst_started_at)).all()
    replied = db.session.execute(select(Message.id, Message.replied_at)
                                 .order_by(Message.id)).all()
    return convs, times, replied


def test_several_conversations_in_one_call_are_kept_as_their_replays_keep_them(db, rep, t0):
    """ingest_many (a batch of live events) writes each conversation's reply state, response
    times, replies and the contact's latest outbound DM as replaying its messages does, and
    the dashboard's counts as counting them afresh does."""
    from crm.contacts import dm_counts
    from crm.conversations.reply_state import rebuild_reply_state

    def conv_of(name, thread):
        contact = factories.ContactFactory(name=name, owner_id=rep.id)
        return ingest.conversation_for(contact, "instagram", thread)

    waiting, asked, empty, backdated = (conv_of(n, f"t-{n}") for n in ("Ana", "Ben", "Cy", "Di"))
    ingest.ingest(None, waiting, [IncomingMessage(INBOUND, t0, "anyone?", external_id="a1")],
                  source=ingest.LIVE)
    ingest.ingest(None, asked, [IncomingMessage(OUTBOUND, t0, "collab?", external_id="b1",
                                                author_id=rep.id)], source=ingest.LIVE)
    ingest.ingest(None, backdated, [IncomingMessage(INBOUND, t0 + 5 * H, "later",
                                                    external_id="d1")], source=ingest.LIVE)
    db.session.commit()
    results = ingest.ingest_many(None, [
        (waiting, [IncomingMessage(OUTBOUND, t0 + H, "here", external_id="a2",
                                   author_id=rep.id),
                   IncomingMessage(INBOUND, t0 + H, "anyone?", external_id="a1")]),
        (asked, [IncomingMessage(INBOUND, t0 + 2 * H, "yes!", external_id="b2")]),
        (empty, [IncomingMessage(INBOUND, t0, "hi", external_id="c1"),
                 IncomingMessage(OUTBOUND, t0 + H, "hello", external_id="c2"),
                 IncomingMessage(INBOUND, t0 + 3 * H, "so?", external_id="c3")]),
        (backdated, [IncomingMessage(OUTBOUND, t0, "earlier", external_id="d0",
                                     author_id=rep.id)]),
    ], source=ingest.LIVE)
    db.session.commit()
    assert [(len(r.added), r.duplicates) for r in results] == [(1, 1), (1, 0), (3, 0), (1, 0)]
    ids = [waiting.id, asked.id, empty.id, backdated.id]
    kept = _kept(ids)
    convs, times, _ = kept
    assert [c[:2] for c in convs] == [("awaiting_reply", 2), ("needs_reply", 2),
                                      ("needs_reply", 3), ("needs_reply", 2)]
    assert [c[6] for c in convs] == [t0 + H, t0, t0 + H, t0]   # each contact's latest DM out
    assert (waiting.id, t0, t0 + H, 3600, rep.id) in times
    assert db.session.scalar(select(Message.replied_at).where(Message.external_id == "b1")) \
        == t0 + 2 * H
    assert dm_counts.stored_hours() == dm_counts.recounted_hours()
    assert dm_counts.stored_responses() == dm_counts.recounted_responses()
    rebuild_reply_state(ids)
    db.session.commit()
    assert _kept(ids) == kept
