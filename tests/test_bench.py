"""The benchmark's data generator: sizes honoured, and the kept state it writes is exactly
what the app's own rules would keep (reply state, follow-ups, stage history, consent)."""
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bench import dataset, report
from bench.client import percentile
from bench.dataset import Sizes, words
from crm.accounts.models import User
from crm.contacts.models import ConsentEvent, Contact
from crm.conversations.models import CLOSED, INBOUND, NEEDS_REPLY, Conversation, Message
from crm.conversations.reply_state import rebuild_reply_state
from crm.extensions import db as _db
from crm.pipeline.models import OPEN, Deal, Stage, StageChange
from crm.tasks.followups import create_follow_ups
from crm.tasks.models import Task
from tests.factories import reply_state_snapshot

SIZES = Sizes.scaled(200, messages=2000, deals=40, tasks=100)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "bench.sqlite3"
    meta = dataset.generate(f"sqlite:///{path}", SIZES, seed=3, quiet=True)
    return dataset.bench_app(f"sqlite:///{path}"), meta


@pytest.fixture
def bench_db(generated):
    app, meta = generated
    with app.app_context():
        yield meta
        _db.session.rollback()


def count(model, *where):
    return _db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_sizes_are_honoured(bench_db):
    assert count(Contact) == 200
    assert count(Conversation) == 200
    assert count(Message) == 2000
    assert count(Deal) == 40 and count(Deal, Deal.outcome == OPEN) == 20
    assert count(Task) == bench_db["tasks"] >= 100
    roles = dict(_db.session.execute(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"admin": 1, "manager": 2, "rep": 7}
    big = _db.session.get(Conversation, bench_db["big_conversation"])
    assert big.message_count == bench_db["big_messages"] == 500
    assert big.contact_id == bench_db["big_contact"]
    assert big.contact.owner.email == "rep1@bench.test"


def test_reply_state_is_what_the_app_rebuilds(bench_db):
    before = reply_state_snapshot()
    assert len(before[1]) > 0 and any(r.replied_at for r in before[2])
    rebuild_reply_state(_db.session.scalars(select(Conversation.id)).all())
    assert reply_state_snapshot() == before


def test_state_follows_the_last_message(bench_db):
    states = set()
    for conv in _db.session.scalars(select(Conversation)):
        last = _db.session.scalars(select(Message).where(Message.conversation_id == conv.id)
                                   .order_by(Message.sent_at.desc(), Message.id.desc())
                                   .limit(1)).one()
        assert conv.last_message_at == last.sent_at
        states.add(conv.state)
        if conv.state == CLOSED:
            assert conv.closed_at >= last.sent_at and conv.waiting_since is None
        else:
            assert (conv.state == NEEDS_REPLY) == (last.direction == INBOUND)
    assert states == {"needs_reply", "awaiting_reply", "closed"}


def test_nothing_happens_in_the_future(bench_db):
    now = datetime.fromisoformat(bench_db["generated_at"])
    assert _db.session.scalar(select(func.max(Message.sent_at))) <= now
    assert _db.session.scalar(select(func.max(Task.created_at))) <= now
    assert _db.session.scalar(select(func.max(Task.done_at))) <= now
    assert _db.session.scalar(select(func.max(Deal.stage_entered_at))) <= now
    assert count(Task, Task.done_at < Task.created_at) == 0


def test_every_due_follow_up_already_exists(bench_db):
    assert count(Task, Task.auto.is_(True)) > 0
    assert create_follow_ups(now=datetime.fromisoformat(bench_db["generated_at"])) == 0


def test_stage_history_matches_each_deal(bench_db):
    for deal in _db.session.scalars(select(Deal)):
        history = _db.session.scalars(select(StageChange).where(StageChange.deal_id == deal.id)
                                      .order_by(StageChange.at, StageChange.id)).all()
        assert history[0].from_stage_id is None
        assert history[-1].to_stage_id == deal.stage_id
        assert history[-1].at == deal.stage_entered_at
        assert deal.version == len(history)
        assert deal.outcome == _db.session.get(Stage, deal.stage_id).outcome
        assert (deal.closed_at is None) == (deal.outcome == OPEN)


def test_each_deal_keeps_its_contacts_owner(bench_db):
    pairs = _db.session.execute(select(Deal.contact_owner_id, Contact.owner_id)
                                .join(Contact, Contact.id == Deal.contact_id)).all()
    assert pairs and all(kept == owner for kept, owner in pairs)


def test_no_outreach_after_an_opt_out(bench_db):
    opted_out = _db.session.scalars(select(Contact).where(Contact.consent_status == "opted_out"))
    for contact in opted_out:
        latest = contact.consent_events.first()
        assert latest.to_status == "opted_out" and latest.at == contact.consent_changed_at
        later = count(Message, Message.direction == "out", Message.sent_at > latest.at,
                      Message.conversation_id.in_(select(Conversation.id).where(
                          Conversation.contact_id == contact.id)))
        assert later == 0


def test_an_opt_out_by_dm_names_the_message(bench_db):
    events = _db.session.scalars(select(ConsentEvent)
                                 .where(ConsentEvent.evidence_message_id.is_not(None))).all()
    assert events
    for event in events:
        message = _db.session.get(Message, event.evidence_message_id)
        assert message.direction == INBOUND and message.conversation.contact_id == event.contact_id
        assert message.body.lower() in {line.lower() for line in words.STOP_LINES}
        assert message.conversation.state == CLOSED
        assert message.conversation.closed_at == event.at


def test_search_index_finds_the_common_surname(bench_db):
    fts = _db.session.execute(_db.text(
        "SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH :q"),
        {"q": f'"{words.COMMON_SURNAME}"'}).scalar()
    like = count(Contact, Contact.search_text.contains(words.COMMON_SURNAME))
    assert fts == like > 0


def test_the_message_index_holds_every_loaded_message(bench_db):
    from crm.conversations.search import find_messages

    indexed = _db.session.execute(_db.text(
        "SELECT count(*) FROM messages_fts_docsize")).scalar()
    assert indexed == count(Message, True) > 0
    body = _db.session.scalars(select(Message.body).where(Message.body != "")
                               .order_by(Message.id.desc())).first()
    manager = _db.session.scalars(select(User).where(User.role == "manager")).first()
    assert find_messages(manager, body)


def test_each_contacts_last_outbound_dm_is_kept(bench_db):
    latest = dict(_db.session.execute(select(Conversation.contact_id,
                                             func.max(Conversation.last_outbound_at))
                                      .group_by(Conversation.contact_id)).all())
    kept = dict(_db.session.execute(select(Contact.id, Contact.last_outbound_at)).all())
    assert kept == {c: latest.get(c) for c in kept} and any(kept.values())


def test_each_follow_up_keeps_when_its_dm_was_answered(bench_db):
    replied = dict(_db.session.execute(
        select(Task.id, Message.replied_at).join(Message, Message.id == Task.source_message_id)
        .where(Task.source_message_id.is_not(None))).all())
    kept = dict(_db.session.execute(select(Task.id, Task.source_replied_at)).all())
    assert kept == {t: replied.get(t) for t in kept} and kept


def test_the_dm_counts_are_what_the_messages_say(bench_db):
    from crm.contacts import dm_counts

    assert dm_counts.stored_hours() == dm_counts.recounted_hours() != {}
    assert dm_counts.stored_totals() == dm_counts.recounted_totals()
    assert dm_counts.stored_responses() == dm_counts.recounted_responses() != {}


def test_a_generated_database_is_reused(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset, "DATA_DIR", tmp_path)
    sizes = Sizes.scaled(30, messages=300, deals=6, tasks=10)
    url, meta = dataset.ensure(sizes, seed=5, quiet=True)
    monkeypatch.setattr(dataset, "generate", lambda *a, **k: pytest.fail("regenerated"))
    assert dataset.ensure(sizes, seed=5, quiet=True) == (url, meta)
    assert not list(tmp_path.glob("*.partial*"))


def test_report_marks_missed_targets():
    row = {"page": "x", "ratio_to_flask": 0.2, "p95_ms": 25.0, "target_ratio": 0.15,
           "target_p95_ms": 20}
    report.judge(row)
    assert row["target_met"] is False
    row["p95_ms"] = 19.0
    report.judge(row)
    assert row["target_met"] is True
    assert percentile(list(range(1, 201)), 95) == 190


def test_a_page_timed_after_a_write_is_judged_on_latency_alone():
    row = {"page": "dashboard, after the user's own DM", "role": "rep", "req_per_s": None,
           "ratio_to_flask": None, "p50_ms": 50.0, "p95_ms": 120.0, "p99_ms": 130.0,
           "bytes": 1000, "target_ratio": None, "target_p95_ms": 100}
    report.judge(row)
    assert row["target_met"] is False
    row["p95_ms"] = 90.0
    report.judge(row)
    assert row["target_met"] is True
    assert report.cells(row)[2:4] == ("—", "")


def test_the_writers_row_writes_from_twelve_clients_at_once(generated):
    """bench.writers, briefly, on the generated data: every write goes through, twelve at a
    time (each writer on records of its own)."""
    import threading

    from werkzeug.serving import make_server

    from bench import writers

    app, meta = generated
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        emails = [f"rep{n}@bench.test" for n in range(1, 8)]
        got = writers.run(app, f"http://127.0.0.1:{server.server_port}", meta["password"],
                          emails, seconds=1.5)
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert got["writes"] >= writers.WRITERS and got["failed"] == 0
    assert got["deadlocks"] is None            # counted on PostgreSQL only
