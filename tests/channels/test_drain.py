"""Webhooks at speed, kept exact: the acknowledging path does the least (the signature on
the raw body, one insert, a drain job queued now and then), and the worker applies events
in batches with few statements each — counted with SQLAlchemy's events, not timed, so the
figures hold however busy the machine is — while several workers drain the same events at
once without losing one or applying one twice (SKIP LOCKED on PostgreSQL)."""
import hashlib
import hmac
import threading
import time
from contextlib import nullcontext
from types import SimpleNamespace

import pytest
from flask import current_app
from sqlalchemy import func, select

from bench import webhooks_bench as burst
from crm.channels import jobs as channel_jobs
from crm.channels import services, worker
from crm.channels.models import ChannelEvent
from crm.contacts.models import Contact
from crm.conversations.models import Conversation, Message
from tests.channels.helpers import events_received


@pytest.fixture
def keys(db):
    out = {}
    for kind, account, phone in (("instagram", burst.IG_ACCOUNT, None),
                                 ("whatsapp", burst.WA_WABA, burst.WA_PHONE)):
        channel = services.add_channel(None, kind=kind, name=f"Burst {kind}",
                                       app_secret=burst.SECRET, verify_token="burst",
                                       access_token="burst-token", account_id=account,
                                       phone_number_id=phone)
        out[kind] = channel.key
    db.session.commit()
    return out


def _post_all(client, keys, requests):
    for kind, body in requests:
        signature = "sha256=" + hmac.new(burst.SECRET.encode(), body, hashlib.sha256).hexdigest()
        response = client.post(f"/webhooks/meta/{keys[kind]}", data=body, headers={
            "X-Hub-Signature-256": signature, "Content-Type": "application/json"})
        assert response.status_code == 200, response.get_data(as_text=True)


def _assert_exact(db, expected):
    """Every expected message once, in its direction, its status at its furthest point."""
    db.session.expire_all()
    rows = db.session.execute(select(Message.external_id, Message.direction,
                                     Message.delivery_status)).all()
    stored = {mid: (direction, status) for mid, direction, status in rows}
    assert len(rows) == len(stored) == len(expected)
    for mid, (direction, status) in expected.items():
        assert stored[mid][0] == direction, mid
        if status is not None:
            assert stored[mid][1] == status, mid
    counts = dict(db.session.execute(select(Message.conversation_id, func.count())
                                     .group_by(Message.conversation_id)).all())
    for conv in db.session.scalars(select(Conversation)):
        assert conv.message_count == counts.get(conv.id, 0)
    assert set(db.session.scalars(select(ChannelEvent.status))) == {"done"}


def test_acknowledging_costs_two_statements(client, db, keys, count_queries, monkeypatch):
    """The channel by its key and the event's insert (on SQLite, into the spool); the drain
    job is looked for (and queued) once, not per event."""
    monkeypatch.setattr(channel_jobs, "WAKE_MEMO", 3600)
    monkeypatch.setattr(channel_jobs, "_seen_queued", [-1e9])
    requests, _ = burst.generate(200)
    spooled = current_app.extensions.get("channel_spool")
    with count_queries() as q, count_queries(spooled) if spooled else nullcontext(SimpleNamespace(statements=[])) as s:
        _post_all(client, keys, requests)
    # + one look for a job, one insert (of the job)
    assert len(q.statements) + len(s.statements) == 2 * len(requests) + 2
    assert len(s.statements) == (len(requests) if spooled else 0)    # SQLite: the inserts, in the spool
    assert events_received(db) == len(requests)


def test_a_burst_is_applied_exactly_with_few_statements_per_event(client, db, keys,
                                                                  count_queries):
    requests, expected = burst.generate(1500)
    _post_all(client, keys, requests)
    spooled = current_app.extensions.get("channel_spool")
    with count_queries() as q, count_queries(spooled) if spooled else nullcontext(SimpleNamespace(statements=[])) as s:
        while events_received(db, pending=True):
            # Statuses that came before their message wait 2 s; here they are due now.
            db.session.execute(ChannelEvent.__table__.update().values(retry_at=None))
            db.session.commit()
            worker.drain(idle_wait=0)
    _assert_exact(db, expected)
    people = db.session.scalar(select(func.count()).select_from(Contact))
    # About 6 statements per event (claim and done are shared by a batch; a person's
    # conversation is read with the batch's others; a batch adds to the DM counts and to
    # everyone's totals), and what a new contact costs once: at most six (on SQLite its
    # contact, handle, audit event and conversation are an INSERT each; on PostgreSQL the
    # batch's new people share those statements).
    per_event = (len(q.statements) - 6 * people) / len(requests)
    assert per_event < 6.5, (len(q.statements), people, len(requests))
    # SQLite: the spool is read once a batch, and emptied 500 events at a time.
    assert len(s.statements) / len(requests) < 0.3, len(s.statements)


def test_workers_draining_side_by_side_lose_nothing_and_apply_nothing_twice(app, client, db,
                                                                            keys):
    requests, expected = burst.generate(900, seed=7)
    _post_all(client, keys, requests)
    applied, errors = [], []
    start = threading.Barrier(3)

    def drain():
        try:
            with app.app_context():
                start.wait()
                applied.append(worker.drain(idle_wait=10, batch=25))
                db.session.remove()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=drain) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert sum(applied) == len(requests)      # each event applied by exactly one worker
    _assert_exact(db, expected)


def test_an_event_stored_while_a_drain_ends_is_still_applied(app, client, db, keys):
    """The drain lingers: an event stored just after it found nothing left is taken too
    (web processes look for a queued drain only now and then)."""
    requests, expected = burst.generate(3)
    applied = []

    def drain():
        with app.app_context():
            applied.append(worker.drain(idle_wait=0, linger=1.5))
            db.session.remove()

    thread = threading.Thread(target=drain)
    thread.start()
    time.sleep(0.5)                   # the drain has found nothing and waits
    _post_all(client, keys, requests)
    thread.join(30)
    assert applied == [len(requests)]
    _assert_exact(db, expected)
