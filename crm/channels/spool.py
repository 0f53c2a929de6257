"""On SQLite, webhook events are first stored in a file of their own, the spool.

SQLite lets one connection write at a time, and while a burst of DMs arrives the worker
applying them holds that turn most of the time. Were each acknowledgement an insert into the
main database, every webhook would wait behind the worker's batches, and Meta counts a slow
answer as a failure. So the acknowledging path writes to the spool (`<database>.events`
beside the main file, with a write lock of its own, shared only with other acknowledgements),
and the worker moves what it holds into `channel_events` at the start of each batch:

1. read the oldest spooled events (a read: nobody waits for it);
2. insert them into `channel_events` and commit — each carries the random key it was given on
   arrival (`spool_key`, unique), so an event moved twice (two workers, or a crash after this
   commit) is inserted once;
3. delete them from the spool.

Nothing is lost in between: an event leaves the spool only after the main database holds it.
PostgreSQL needs none of this (a row lock per event, not one lock per database): there the
acknowledging path inserts into `channel_events` itself and the spool is off. The spool is a
buffer, not history: its one table is created when the app starts and is empty when the
worker keeps up; deleting the file loses only the events not yet moved.
"""
import secrets
from pathlib import Path

from flask import current_app
from sqlalchemy import (Column, DateTime, Integer, LargeBinary, MetaData, String, Table,
                        create_engine, delete, insert, select)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.channels.models import PENDING, Channel, ChannelEvent
from crm.core import sqlite_writers
from crm.core.timeutil import utcnow
from crm.extensions import db

_metadata = MetaData()
spooled = Table(
    "spooled_events", _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(32), nullable=False),
    Column("channel_id", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", DateTime, nullable=False),
    sqlite_autoincrement=True,
)
MOVE = 500     # events moved per transaction


def path_for(database_url: str) -> Path | None:
    """The spool beside a SQLite file database; None for PostgreSQL or an in-memory one."""
    main = sqlite_writers.file_of(database_url)
    return None if main is None else Path(main + ".events")


def configure(app) -> None:
    """The app's spool engine, when its database is a SQLite file (`CHANNEL_SPOOL` off: none)."""
    app.extensions.pop("channel_spool", None)
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or ""
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        # A relative file, as Flask-SQLAlchemy reads it: inside the instance folder.
        url = f"sqlite:///{Path(app.instance_path) / url[len('sqlite:///'):]}"
    where = path_for(url) if app.config.get("CHANNEL_SPOOL", True) else None
    if where is None:
        return
    engine = create_engine(f"sqlite:///{where}",
                           connect_args={"factory": sqlite_writers.QueuedWriterConnection})
    _metadata.create_all(engine)
    engine.dispose()        # no connection is kept open across a server's fork
    app.extensions["channel_spool"] = engine


def _engine():
    return current_app.extensions.get("channel_spool")


def enabled() -> bool:
    return _engine() is not None


def store(channel_id: int, body: bytes) -> int:
    """Keep an acknowledged event (committed at once, in the spool); its spool id."""
    with _engine().begin() as conn:
        return conn.execute(insert(spooled).returning(spooled.c.id), {
            "key": secrets.token_hex(16), "channel_id": channel_id, "body": body,
            "received_at": utcnow()}).scalar_one()


def waiting() -> int:
    """Events in the spool, not yet moved."""
    with _engine().connect() as conn:
        return conn.scalar(select(db.func.count()).select_from(spooled))


def move_in(limit: int = MOVE) -> int:
    """Move the oldest spooled events into channel_events (see the module's steps); how many
    were read. The main session's transaction is committed."""
    engine = _engine()
    with engine.connect() as conn:
        rows = conn.execute(select(spooled).order_by(spooled.c.id).limit(limit)).all()
    if not rows:
        return 0
    # A channel deleted meanwhile takes its events with it, as its stored ones go.
    live = set(db.session.scalars(select(Channel.id).where(
        Channel.id.in_({r.channel_id for r in rows}))))
    kept = [{"spool_key": r.key, "channel_id": r.channel_id, "body": r.body,
             "received_at": r.received_at, "status": PENDING, "attempts": 0}
            for r in rows if r.channel_id in live]
    if kept:
        db.session.execute(sqlite_insert(ChannelEvent.__table__)
                           .on_conflict_do_nothing(index_elements=["spool_key"]), kept)
    db.session.commit()
    with engine.begin() as conn:
        conn.execute(delete(spooled).where(spooled.c.id <= rows[-1].id))
    return len(rows)
