"""Fixtures: the app on SQLite (or PostgreSQL with --db=postgres), a clean database per test,
users of each role, a signed-in client, and a SQL query counter."""
import contextvars
import os
import re
import threading
from contextlib import contextmanager

import pytest
from flask import current_app, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, text
from werkzeug.serving import make_server

from config import TestConfig
from crm import create_app
from crm.channels import spool
from crm.extensions import db as _db
from crm.jobs import queue
from tests import factories


@pytest.fixture(scope="session", autouse=True)
def _figure_cache_of_other_processes(tmp_path_factory):
    """Processes a test starts with the production settings (job workers, the command line)
    keep their figure cache in the session's temporary folder, not in the checkout's
    instance/ (config.Config's default)."""
    os.environ.setdefault("CACHE_DIR", str(tmp_path_factory.mktemp("figure-cache")))


def pytest_addoption(parser):
    parser.addoption("--db", default="sqlite", choices=["sqlite", "postgres"],
                     help="Database to run against; postgres reads TEST_DATABASE_URL.")


def pytest_collection_modifyitems(config, items):
    """Slow tests run in CI (CI=true) or when asked for by marker (-m slow)."""
    if os.environ.get("CI") or "slow" in (config.getoption("-m") or "").replace("not slow", ""):
        return
    skip = pytest.mark.skip(reason="slow: runs in CI, or here with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _database_url(config, tmp_path_factory) -> str:
    if config.getoption("--db") == "postgres":
        url = os.environ.get("TEST_DATABASE_URL")
        if not url:
            pytest.exit("--db=postgres needs TEST_DATABASE_URL", returncode=2)
        return re.sub(r"^postgres(ql)?://", "postgresql+psycopg://", url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


class OwnContextClient(FlaskClient):
    """Each request runs as in production, in an app context of its own: nothing in `g`, in
    Flask-Login's cached user or in the database session carries over from the test or from
    the previous request. What the test arranged is committed before the request (another
    connection would see nothing else), and what the test holds is read again after it."""

    def open(self, *args, **kwargs):
        if not has_app_context():  # a thread of its own (read_as_served): nothing to share
            return super().open(*args, **kwargs)
        _db.session.commit()
        # The body is read inside the request's own context: a streamed answer runs there.
        kwargs.setdefault("buffered", True)
        try:
            return contextvars.Context().run(super().open, *args, **kwargs)
        finally:
            _db.session.commit()  # ends the test's read, so it sees the request's writes


def new_app(config):
    """The app, with a test client that gives each request its own app context."""
    app = create_app(config)
    app.test_client_class = OwnContextClient
    return app


@pytest.fixture(scope="session")
def app(request, tmp_path_factory):
    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = _database_url(request.config, tmp_path_factory)

    app = new_app(Config)
    with app.app_context():
        _db.drop_all()
        _db.create_all()
        _wipe()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        if _db.engine.dialect.name == "sqlite":
            with _db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS contacts_fts")
                conn.exec_driver_sql("DROP TABLE IF EXISTS messages_fts")


def _wipe():
    _db.session.rollback()
    _db.session.remove()
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            conn.exec_driver_sql("INSERT INTO contacts_fts(contacts_fts) VALUES ('delete-all')")
            conn.exec_driver_sql("INSERT INTO messages_fts(messages_fts) VALUES ('delete-all')")
    if spool.enabled():
        with current_app.extensions["channel_spool"].begin() as conn:
            conn.execute(spool.spooled.delete())


@pytest.fixture(autouse=True)
def db(app):
    """A pushed app context and an empty database for every test (emptied after each)."""
    if queue.app() is not app:     # another app made in a test took the job queue over
        queue.configure(app)
    with app.app_context():
        yield _db
        _wipe()


@pytest.fixture
def remembering(app, request):
    """The figure cache on (as in production; tests keep it off): dashboard figures and the
    navigation's badge remembered between requests. In-process by default; a test
    parametrized with `indirect=["remembering"]` and "redis" shares it through Redis at
    TEST_REDIS_URL, as production does when REDIS_URL is set."""
    import uuid

    from crm.core import cache
    from crm.extensions import cache as extension

    backend = getattr(request, "param", "simple")
    if backend == "redis":
        from tests.test_jobs_worker import redis_or_skip

        extension.init_app(app, config={
            "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_or_skip(),
            "CACHE_KEY_PREFIX": f"rapport-test-{uuid.uuid4().hex[:8]}:"})
    app.config["REPORTS_CACHE"] = True
    cache.clear()
    yield backend
    app.config.pop("REPORTS_CACHE")
    cache.clear()
    if backend == "redis":
        extension.init_app(app)


@pytest.fixture
def live_server(app):
    """The test app on 127.0.0.1:<free port>, in a thread, for one test (the browser tests,
    and real concurrent requests)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin(db):
    return factories.UserFactory(role="admin", name="Ada Admin", email="admin@example.com")


@pytest.fixture
def manager(db):
    return factories.UserFactory(role="manager", name="Mia Manager", email="manager@example.com")


@pytest.fixture
def rep(db):
    return factories.UserFactory(role="rep", name="Rae Rep", email="rep@example.com")


@pytest.fixture
def other_rep(db):
    return factories.UserFactory(role="rep", name="Otto Other", email="other@example.com")


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, user):
        """Sign `user` in without going through the form (the form has its own tests)."""
        from crm.accounts import sessions

        secret = sessions.start(user)
        _db.session.commit()
        with self.client.session_transaction() as session:
            session["_user_id"] = secret
            session["_fresh"] = True
        return self.client

    def logout(self):
        with self.client.session_transaction() as session:
            session.clear()


@pytest.fixture
def auth(client):
    return Auth(client)


class QueryCounter:
    def __init__(self):
        self.statements = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self):
        return len(self.statements)


@pytest.fixture
def count_queries(db):
    """`with count_queries() as q: …; q.count` — SQL statements run inside the block."""
    @contextmanager
    def counter(engine=None):
        q = QueryCounter()
        engine = engine or db.engine
        event.listen(engine, "before_cursor_execute", q)
        try:
            yield q
        finally:
            event.remove(engine, "before_cursor_execute", q)
    return counter


HX = {"HX-Request": "true"}


@pytest.fixture
def hx():
    """Headers of an HTMX request (not boosted)."""
    return dict(HX)


def read_as_served(client, url: str, **kwargs):
    """GET `url` the way a server runs it: in a thread of its own (so none of the test's app
    context is shared), the body read to its end only after the view has returned.
    Returns (status code, body text)."""
    out = {}

    def run():
        try:
            resp = client.get(url, buffered=False, **kwargs)
            try:
                out["status"] = resp.status_code
                out["body"] = b"".join(resp.response).decode("utf-8")
            finally:
                resp.close()
        except Exception as e:  # noqa: BLE001 — handed to the test as it happened
            out["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    if "error" in out:
        raise out["error"]
    return out["status"], out["body"]
