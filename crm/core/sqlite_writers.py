"""Writers of one SQLite database wait for each other in a queue, not in SQLite's busy handler.

SQLite lets one connection write at a time. A connection that finds the write lock taken
waits in SQLite's busy handler, which sleeps and tries again (1, 2, 5, 10, 15, 20, 25 … 100
ms): under load a waiting writer sleeps past the moment the lock is free, and the writer
that just committed takes it again. Two gunicorn workers writing in turn then serve far fewer
writes than one would alone, and a short write (a webhook's insert) can wait behind many.

So before its first write a connection takes an OS lock on a file beside the database
(`flock`, held until its transaction ends): a waiter is woken the moment the lock is free.
Threads of one process queue on a lock of their own first (the flock belongs to the process).
SQLite's busy handler stays as the net for writers that do not queue (other programs).

The connection is Python's own sqlite3 connection with `commit`, `rollback`, `close` and its
cursors' `execute` taking or leaving the queue; `configure` makes SQLAlchemy's engine open
these for a SQLite file. Python's sqlite3 begins a transaction at the first INSERT, UPDATE,
DELETE or REPLACE, which is where SQLite takes its write lock too.
"""
import fcntl
import os
import sqlite3
import threading

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


class _Queue:
    """The writers of one database in one process: reentrant for a thread that writes on two
    connections at once (the second then meets SQLite's busy handler, as without a queue)."""

    def __init__(self, path: str):
        self._thread = threading.RLock()
        self._depth = 0
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def enter(self) -> None:
        self._thread.acquire()
        self._depth += 1
        if self._depth == 1:
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def leave(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread.release()


_queues: dict = {}
_queues_lock = threading.Lock()


def _queue_for(database: str) -> _Queue:
    # One per process: a forked worker must not share its parent's open lock file (a flock
    # belongs to the open file, so parent and child would hold it together).
    key = (os.getpid(), database)
    with _queues_lock:
        if key not in _queues:
            _queues[key] = _Queue(database + "-writers")
        return _queues[key]


class _Cursor(sqlite3.Cursor):
    def execute(self, sql, parameters=()):
        self.connection._before(sql)
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection._after()

    def executemany(self, sql, seq_of_parameters):
        self.connection._before(sql)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection._after()


class QueuedWriterConnection(sqlite3.Connection):
    """A sqlite3 connection that joins its database's queue of writers before it writes."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._queue = _queue_for(os.path.abspath(os.fspath(database)))
        self._queued = False

    def cursor(self, factory=_Cursor):
        return super().cursor(factory)

    def _before(self, sql: str) -> None:
        if not self._queued and sql.lstrip()[:6].upper() in _WRITES:
            self._queue.enter()
            self._queued = True

    def _after(self) -> None:
        # A statement that wrote outside a transaction (or failed before one began) is done.
        if self._queued and not self.in_transaction:
            self._leave()

    def _leave(self) -> None:
        if self._queued:
            self._queued = False
            self._queue.leave()

    def commit(self):
        try:
            return super().commit()
        finally:
            self._leave()

    def rollback(self):
        try:
            return super().rollback()
        finally:
            self._leave()

    def close(self):
        try:
            return super().close()
        finally:
            self._leave()


def file_of(url: str) -> str | None:
    """The file behind a SQLite URL; None for another database or an in-memory one."""
    if not url.startswith("sqlite:///") or url in ("sqlite:///", "sqlite:///:memory:"):
        return None
    return url[len("sqlite:///"):]


def configure(config: dict) -> None:
    """Open connections to a SQLite file (not an in-memory database) as queued writers."""
    if file_of(config.get("SQLALCHEMY_DATABASE_URI") or "") is None:
        return
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["connect_args"] = {**options.get("connect_args", {}),
                               "factory": QueuedWriterConnection}
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options
