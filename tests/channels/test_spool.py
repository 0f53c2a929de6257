"""SQLite: acknowledged events wait in the spool, a file with a write lock of its own, until
the worker moves them into channel_events — none lost, none stored twice."""
import time

import pytest
from flask import current_app
from sqlalchemy import func, select

from crm.channels import jobs as channel_jobs
from crm.channels import spool
from crm.channels.models import ChannelEvent
from crm.core.timeutil import utcnow
from tests.channels.helpers import dm_event, make_channel, post_signed, run_worker


@pytest.fixture(autouse=True)
def sqlite_only(db):
    if not spool.enabled():
        pytest.skip("PostgreSQL stores events in channel_events directly")


def _stored(db):
    return db.session.scalar(select(func.count()).select_from(ChannelEvent))


def test_the_spool_is_a_file_of_its_own_beside_the_database(app):
    main = app.config["SQLALCHEMY_DATABASE_URI"]
    assert str(current_app.extensions["channel_spool"].url) == main + ".events"
    assert spool.path_for("postgresql://127.0.0.1/rapport") is None
    assert spool.path_for("sqlite:///:memory:") is None


def test_an_acknowledgement_waits_for_nobody_writing_the_main_database(client, db,
                                                                      monkeypatch):
    """The worker holds the main write lock while it applies a batch: a webhook answers
    meanwhile, since its insert goes to the spool."""
    channel = make_channel("instagram")
    db.session.commit()
    # A drain job was queued a moment ago: this acknowledgement only stores its event.
    monkeypatch.setattr(channel_jobs, "_seen_queued", [time.monotonic()])
    holder = db.engine.connect()
    holder.exec_driver_sql("UPDATE channels SET name = name")        # the main write lock
    try:
        body = dm_event("instagram", "1789001", "mid.1", "hello", at=utcnow())
        assert post_signed(client, channel, body).status_code == 200
    finally:
        holder.rollback()
        holder.close()
    assert spool.waiting() == 1 and _stored(db) == 0


def test_moved_twice_an_event_is_stored_once(client, db, monkeypatch):
    """A crash after the main commit and before the spool forgets: the next move finds the
    same events and the keys they were given keep them from being stored again."""
    channel = make_channel("instagram")
    db.session.commit()
    for n in range(3):
        post_signed(client, channel, dm_event("instagram", "1789001", f"mid.{n}", "hi",
                                              at=utcnow()))
    forgetting = spool.delete
    monkeypatch.setattr(spool, "delete", lambda table: (_ for _ in ()).throw(
        RuntimeError("the process died here")))
    with pytest.raises(RuntimeError):
        spool.move_in()
    assert _stored(db) == 3 and spool.waiting() == 3
    monkeypatch.setattr(spool, "delete", forgetting)
    assert spool.move_in() == 3
    assert _stored(db) == 3 and spool.waiting() == 0
    run_worker(db)
    assert set(db.session.scalars(select(ChannelEvent.status))) == {"done"}


def test_events_of_a_channel_deleted_meanwhile_go_with_it(client, db):
    kept, dropped = make_channel("instagram"), make_channel("messenger")
    db.session.commit()
    post_signed(client, kept, dm_event("instagram", "1789001", "mid.k", "hi", at=utcnow()))
    post_signed(client, dropped, dm_event("messenger", "2789001", "mid.d", "hi", at=utcnow()))
    db.session.delete(dropped)
    db.session.commit()
    assert spool.move_in() == 2
    assert db.session.scalars(select(ChannelEvent.channel_id)).all() == [kept.id]
    assert spool.waiting() == 0
