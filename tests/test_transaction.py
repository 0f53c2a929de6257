"""One transaction per request: views and services flush, the request commits once at its
end, and an error answer leaves nothing behind."""
import pathlib

import pytest
from flask import abort
from sqlalchemy import event, func, select

from config import TestConfig
from crm import create_app
from crm.contacts.models import Contact, Note
from crm.core.transaction import after_commit, answer_after_commit
from crm.extensions import db as _db
from tests import factories


@pytest.fixture
def commits(db):
    """How many times the database committed while the block ran."""
    seen = []

    def on_commit(conn):
        seen.append(1)
    event.listen(db.engine, "commit", on_commit)
    yield seen
    event.remove(db.engine, "commit", on_commit)


def test_a_write_commits_once_at_the_requests_end(auth, rep, db, commits):
    contact = factories.ContactFactory(owner_id=rep.id)
    client = auth.login(rep)
    contact_id = contact.id
    db.session.commit()  # the test's own read ends here
    commits.clear()
    resp = client.post(f"/contacts/{contact_id}/notes", data={"body": "Met at the fair"})
    assert resp.status_code in (200, 302)
    assert len(commits) == 1
    assert db.session.scalar(select(func.count()).select_from(Note)) == 1


def test_no_view_module_commits():
    crm = pathlib.Path(__file__).resolve().parent.parent / "crm"
    views = [p for p in crm.rglob("*.py") if "@bp." in p.read_text()]
    assert len(views) > 10
    committing = [str(p.relative_to(crm)) for p in views if "session.commit(" in p.read_text()]
    assert committing == []


@pytest.fixture
def scratch_app(app):
    """A second app on the same database, with routes that write and then fail."""
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]

    other = create_app(Config)
    ran = []

    def add(name):
        _db.session.add(Contact(name=name, kind="contact"))
        _db.session.flush()
        after_commit(ran.append, name)

    @other.get("/scratch/<int:status>")
    def scratch(status):
        add(f"status {status}")
        if status == 404:
            abort(404)
        return "", status

    @other.post("/scratch/later")
    def later():
        contact = Contact(name="drawn after", kind="contact")
        _db.session.add(contact)
        _db.session.flush()
        after_commit(ran.append, "committed")

        def draw():
            ran.append("drawn")
            read = []

            def on_execute(conn, cursor, statement, *args):
                read.append(statement)
            event.listen(_db.engine, "before_cursor_execute", on_execute)
            name = contact.name          # as the request wrote it: not expired, not read again
            event.remove(_db.engine, "before_cursor_execute", on_execute)
            with _db.engine.connect() as conn:   # another connection sees it committed
                stored = conn.scalar(select(Contact.name).where(Contact.id == contact.id))
            return f"<p>{name}: {stored} ({len(read)} read)</p>", {"HX-Reswap": "none"}

        return answer_after_commit(draw, headers={"HX-Trigger": "saved"})

    other.ran = ran
    return other


def _names():
    _db.session.expire_all()
    return set(_db.session.scalars(select(Contact.name)))


@pytest.mark.parametrize("status, kept", [(200, True), (302, True), (400, False),
                                          (404, False), (409, False)])
def test_an_error_answer_rolls_back_what_the_request_flushed(db, rep, scratch_app, status,
                                                             kept):
    from tests.conftest import Auth

    client = Auth(scratch_app.test_client()).login(rep)
    resp = client.get(f"/scratch/{status}")
    assert resp.status_code == status
    assert ("status %d" % status in _names()) is kept
    # What waited for the commit ran only when there was one.
    assert scratch_app.ran == ([f"status {status}"] if kept else [])


def test_an_answer_left_for_after_the_commit_is_drawn_once_committed(db, rep, scratch_app):
    from tests.conftest import Auth

    client = Auth(scratch_app.test_client()).login(rep)
    resp = client.post("/scratch/later")
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == "<p>drawn after: drawn after (0 read)</p>"
    assert resp.headers["HX-Trigger"] == "saved" and resp.headers["HX-Reswap"] == "none"
    assert resp.headers["Content-Length"] == str(len(resp.get_data()))
    # What waited for the commit ran before the answer was drawn.
    assert scratch_app.ran == ["committed", "drawn"]
    assert "drawn after" in _names()


def test_each_request_has_its_own_app_context(auth, rep, manager, db):
    """Nothing one user's request keeps in `g` (here the viewer's time zone) reaches the
    next user's request."""
    from datetime import datetime

    rep.timezone = "Asia/Tokyo"
    contact = factories.ContactFactory(owner_id=None)
    db.session.add(Note(contact_id=contact.id, author_id=rep.id, body="Called",
                        created_at=datetime(2026, 1, 15, 12, 0)))
    client = auth.login(rep)
    timeline = f"/contacts/{contact.id}/timeline"
    assert "15 Jan 2026, 21:00" in client.get(timeline).get_data(as_text=True)
    auth.login(manager)
    page = client.get(timeline).get_data(as_text=True)
    assert "15 Jan 2026, 12:00" in page and "21:00" not in page


def test_a_savepoint_rolled_back_keeps_the_earlier_changes_noted_for_the_figure_cache(db, rep):
    """What the transaction changed before a savepoint that rolls back still renews its
    tables' generations at the commit, so no remembered figure outlives the change."""
    from crm.core.cache import generations

    contact = factories.ContactFactory(owner_id=rep.id)
    db.session.commit()
    before = generations(("notes",))
    db.session.add(Note(contact_id=contact.id, author_id=rep.id, body="Kept"))
    db.session.flush()
    savepoint = db.session.begin_nested()
    db.session.add(Contact(name="Undone", kind="lead"))
    db.session.flush()
    savepoint.rollback()
    db.session.commit()
    assert generations(("notes",)) != before


def test_what_waits_for_the_commit_waits_through_a_released_savepoint(db, rep):
    """SQLAlchemy announces after_commit when a savepoint is released too: work queued for
    the commit (a job, a file to remove) must not run then, nor at all if the transaction
    then rolls back."""
    ran = []
    factories.ContactFactory(owner_id=rep.id)
    after_commit(ran.append, "first")
    with db.session.begin_nested():
        db.session.add(Contact(name="Inside a savepoint", kind="lead"))
    assert ran == []
    db.session.rollback()
    assert ran == []
    after_commit(ran.append, "second")
    with db.session.begin_nested():
        db.session.add(Contact(name="Inside another", kind="lead"))
    assert ran == []
    db.session.commit()
    assert ran == ["second"]


def test_figures_noted_before_a_released_savepoint_are_renewed_at_the_commit(db, rep):
    from crm.core.cache import generations

    contact = factories.ContactFactory(owner_id=rep.id)
    db.session.commit()
    before = generations(("notes",))
    db.session.add(Note(contact_id=contact.id, author_id=rep.id, body="Noted"))
    db.session.flush()
    with db.session.begin_nested():
        db.session.add(Contact(name="Inside a savepoint", kind="lead"))
    assert generations(("notes",)) == before
    db.session.commit()
    assert generations(("notes",)) != before
