"""Writers of one SQLite file queue for each other (crm.core.sqlite_writers) instead of
sleeping in SQLite's busy handler: a writer that finds another writing waits until that one's
transaction ends, then writes, however short its own busy timeout."""
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from crm.core.sqlite_writers import QueuedWriterConnection, configure


def _connect(path, **kwargs):
    conn = sqlite3.connect(path, factory=QueuedWriterConnection, timeout=0,
                           check_same_thread=False, **kwargs)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


@pytest.fixture
def path(tmp_path):
    path = str(tmp_path / "queue.sqlite3")
    conn = _connect(path)
    conn.cursor().execute("CREATE TABLE t (x INTEGER)")
    conn.close()
    return path


def test_a_second_writer_waits_for_the_first_instead_of_failing(path):
    first, second = _connect(path), _connect(path)
    first.cursor().execute("INSERT INTO t VALUES (1)")     # holds the write lock
    done = []

    def write():
        second.cursor().execute("INSERT INTO t VALUES (2)")
        second.commit()
        done.append(time.monotonic())

    writer = threading.Thread(target=write)
    writer.start()
    time.sleep(0.3)
    assert done == []                      # waiting in the queue, not refused
    committed = time.monotonic()
    first.commit()
    writer.join(5)
    assert done and done[0] >= committed
    assert first.cursor().execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_without_the_queue_the_same_second_writer_is_refused(path):
    """What the queue is for: SQLite alone refuses (or, with a busy timeout, sleeps)."""
    first = _connect(path)
    plain = sqlite3.connect(path, timeout=0)
    first.cursor().execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        plain.execute("INSERT INTO t VALUES (2)")
    first.rollback()


def test_writers_in_other_processes_queue_too(path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sqlite3, sys, time
        from crm.core.sqlite_writers import QueuedWriterConnection
        conn = sqlite3.connect({path!r}, factory=QueuedWriterConnection, timeout=0)
        conn.cursor().execute("INSERT INTO t VALUES (1)")
        print("holding", flush=True)
        time.sleep(0.5)
        conn.commit()
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    began = time.monotonic()
    conn = _connect(path)
    conn.cursor().execute("INSERT INTO t VALUES (2)")
    conn.commit()
    assert time.monotonic() - began > 0.2          # it waited for the other process
    assert holder.wait(5) == 0
    assert conn.cursor().execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_reads_do_not_queue_and_a_rollback_or_failure_leaves_the_queue(path):
    first, second = _connect(path), _connect(path)
    first.cursor().execute("INSERT INTO t VALUES (1)")
    assert second.cursor().execute("SELECT count(*) FROM t").fetchone() == (0,)
    first.rollback()
    with pytest.raises(sqlite3.OperationalError):
        first.cursor().execute("INSERT INTO missing VALUES (1)")
    second.cursor().execute("INSERT INTO t VALUES (2)")     # nobody holds the queue
    second.commit()


def test_only_sqlite_files_are_configured():
    for url in ("postgresql://127.0.0.1/x", "sqlite://", "sqlite:///:memory:"):
        config = {"SQLALCHEMY_DATABASE_URI": url}
        configure(config)
        assert "SQLALCHEMY_ENGINE_OPTIONS" not in config
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite:////tmp/x.sqlite3",
              "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}}
    configure(config)
    assert config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True, "connect_args": {"factory": QueuedWriterConnection}}


def test_the_app_writes_through_the_queue(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the queue is SQLite's")
    with db.engine.connect() as conn:
        assert isinstance(conn.connection.dbapi_connection, QueuedWriterConnection)
