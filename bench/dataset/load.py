"""Bulk loading through the app's own tables: batched Core inserts, indexes built once at
the end, the contact search index rebuilt, PostgreSQL sequences moved past the loaded ids."""
import json
from contextlib import contextmanager
from itertools import islice

from sqlalchemy import JSON, Boolean, Date, DateTime, text

from crm.contacts import search_index
from crm.conversations import search_index as message_search
from crm.extensions import db

BATCH = 5000


def table(name: str):
    return db.metadata.tables[name]


def _sqlite_datetime(value):
    # The text SQLAlchemy's SQLite DateTime writes, so comparisons and sorting agree.
    return None if value is None else value.isoformat(" ", "microseconds")


def _date(value):
    return None if value is None else value.isoformat()


def _bool(value):
    return None if value is None else int(value)


def _json(value):
    return None if value is None else json.dumps(value)


def _converter(column, dialect: str):
    if isinstance(column.type, JSON):
        return _json
    if dialect != "sqlite":
        return None
    if isinstance(column.type, DateTime):
        return _sqlite_datetime
    if isinstance(column.type, Date):
        return _date
    if isinstance(column.type, Boolean):
        return _bool
    return None


def _defaults(target, keys) -> dict:
    """Python-side defaults of the columns the rows leave out (a column added to a model
    later still gets its value; the autoincrementing id is left to the database)."""
    out = {}
    for column in target.columns:
        if column.key in keys or column.default is None or column.primary_key:
            continue
        default = column.default
        out[column.key] = (default.arg if default.is_scalar
                           else (lambda fn=default.arg: fn(None)))
    return out


def insert(conn, name: str, rows) -> int:
    """Insert an iterable of dicts (all with the same keys) in batches; returns the count.

    The rows go straight to the driver (executemany on SQLite, COPY on PostgreSQL), converted
    the way SQLAlchemy's column types would: per-row statement compilation would make a
    million messages take minutes instead of seconds.
    """
    target, rows, count = table(name), iter(rows), 0
    first = next(rows, None)
    if first is None:
        return 0
    dialect = conn.dialect.name
    defaults = _defaults(target, first.keys())
    columns = [target.c[k] for k in first] + [target.c[k] for k in defaults]
    converters = [_converter(c, dialect) for c in columns]
    names = ", ".join(c.name for c in columns)
    raw = conn.connection.driver_connection

    def values(row):
        vals = [row[k] for k in first] + [d() if callable(d) else d for d in defaults.values()]
        return tuple(f(v) if f else v for f, v in zip(converters, vals))

    pending = [first]
    while True:
        pending.extend(islice(rows, BATCH - len(pending)))
        if not pending:
            return count
        batch = [values(r) for r in pending]
        cursor = raw.cursor()
        if dialect == "postgresql":
            with cursor.copy(f"COPY {target.name} ({names}) FROM STDIN") as copy:
                for row in batch:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            cursor.executemany(f"INSERT INTO {target.name} ({names}) VALUES ({marks})", batch)
        cursor.close()
        count += len(batch)
        pending = []


LAST_OUTBOUND_ALL = ("UPDATE contacts SET last_outbound_at = (SELECT max(c.last_outbound_at) "
                     "FROM conversations c WHERE c.contact_id = contacts.id)")
FOLLOW_UP_REPLIES_ALL = ("UPDATE tasks SET source_replied_at = (SELECT m.replied_at FROM messages m "
                         "WHERE m.id = tasks.source_message_id) WHERE source_message_id IS NOT NULL")


@contextmanager
def fast_load(conn, names):
    """Drop the secondary indexes (and the search index) of `names`; build them after loading.

    Building an index once over a full table is several times quicker than keeping it up to
    date row by row; unique constraints stay in place so duplicates still fail loudly.
    """
    dialect = conn.dialect.name
    if dialect == "sqlite":
        # Before anything is written: SQLite refuses to change this inside a transaction.
        conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.exec_driver_sql("PRAGMA cache_size=-262144")   # 256 MB while loading
    indexes = [ix for name in names for ix in table(name).indexes]
    for ix in indexes:
        ix.drop(conn, checkfirst=True)
    for index in (search_index, message_search):
        for sql in index.statements(dialect, drop=True):
            conn.exec_driver_sql(sql)
    yield
    for ix in indexes:
        ix.create(conn, checkfirst=True)
    for index in (search_index, message_search):
        index.install(conn)
        index.rebuild(conn)
    # The copies the app writes with the reply state, counted once for the whole load.
    conn.exec_driver_sql(LAST_OUTBOUND_ALL)
    conn.exec_driver_sql(FOLLOW_UP_REPLIES_ALL)
    if dialect == "postgresql":
        _move_sequences(conn)
        conn.exec_driver_sql("ANALYZE")


def _move_sequences(conn) -> None:
    """Ids were given explicitly; the next row the app inserts must not collide with them."""
    for t in db.metadata.sorted_tables:
        if "id" not in t.c or not t.c.id.primary_key:
            continue
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{t.name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {t.name}), 0) + 1, false)"))
