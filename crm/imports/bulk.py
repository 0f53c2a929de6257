"""SQLite tricks for loading a lot of rows inside one transaction (no-ops elsewhere)."""
from __future__ import annotations

import gc
from contextlib import contextmanager
from operator import itemgetter

from sqlalchemy import func, insert, select, text

from crm.contacts import search_index
from crm.core.cache import changed
from crm.core.dbvalues import SQLITE_DATETIME, datetime_to_db  # noqa: F401 (used by importers)
from crm.extensions import db

MARKS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_rows(table, rows: list[dict]) -> None:
    """executemany of plain tuples, each value converted by its column's own bind processor
    (what Core would do, without its per-row bookkeeping). Every dict has the same keys."""
    if not rows:
        return
    changed(db.session, table.name)   # written around the session: say so (crm.core.cache)
    conn = db.session.connection()
    dialect = conn.dialect
    mark = MARKS.get(dialect.paramstyle)
    if mark is None:
        db.session.execute(insert(table), rows)
        return
    keys = list(rows[0])
    get = itemgetter(*keys) if len(keys) > 1 else (lambda r, k=keys[0]: (r[k],))
    procs = [(i, _remembered(p)) for i, k in enumerate(keys)
             for p in [table.c[k].type.dialect_impl(dialect).bind_processor(dialect)] if p]
    sql = (f"INSERT INTO {table.name} ({', '.join(keys)}) "
           f"VALUES ({', '.join([mark] * len(keys))})")
    if not procs:
        conn.exec_driver_sql(sql, [get(r) for r in rows])
        return
    data = []
    for r in rows:
        values = list(get(r))
        for i, p in procs:
            values[i] = p(values[i])
        data.append(tuple(values))
    conn.exec_driver_sql(sql, data)


def bound(table, key: str, value):
    """A value as SQLite's driver takes it for this column (a date as text, a flag as 0/1),
    for insert_tuples; elsewhere the value itself. Worked out once for a value every row
    shares, instead of once per row."""
    conn = db.session.connection()
    dialect = conn.dialect
    if dialect.name != "sqlite" or value is None:
        return value
    process = table.c[key].type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process else value


def insert_tuples(table, keys: list[str], rows: list[tuple]) -> None:
    """executemany of tuples in `keys` order. On SQLite every value must already be what
    the driver takes (plain text and numbers, or bound()); elsewhere as insert_rows."""
    if not rows:
        return
    conn = db.session.connection()
    if conn.dialect.name != "sqlite":
        insert_rows(table, [dict(zip(keys, r)) for r in rows])
        return
    changed(db.session, table.name)
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(keys)}) "
                         f"VALUES ({', '.join('?' * len(keys))})", rows)


def insert_returning_ids(table, rows: list[dict], keys: list[str] | None = None) -> list[int]:
    """Insert rows in one executemany and return their ids in row order (rows are tuples in
    `keys` order when keys are given, see insert_tuples).

    SQLite gives each new row the largest rowid so far plus one, and this transaction is the
    only writer, so the ids are known without RETURNING (which SQLite would run row by row
    to keep the order). Elsewhere RETURNING keeps the order.
    """
    if db.session.connection().dialect.name != "sqlite":
        if keys is not None:
            rows = [dict(zip(keys, r)) for r in rows]
        return list(db.session.execute(
            insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
    before = db.session.scalar(select(func.coalesce(func.max(table.c.id), 0)))
    if keys is not None:
        insert_tuples(table, keys, rows)
    else:
        insert_rows(table, rows)
    after = db.session.scalar(select(func.max(table.c.id)))
    if after != before + len(rows):  # cannot happen with one writer; refuse rather than guess
        raise RuntimeError("new row ids are not consecutive; nothing was imported")
    return list(range(before + 1, after + 1))


def _remembered(process):
    """A bind processor that converts each distinct value once (the same `now` on every row)."""
    seen = {}

    def convert(value):
        try:
            return seen[value]
        except KeyError:
            result = seen[value] = process(value)
            return result
        except TypeError:  # unhashable (a JSON dict): an empty one is converted once
            if value:
                return process(value)
            key = ("empty", type(value))
            if key not in seen:
                seen[key] = process(value)
            return seen[key]
    return convert


def hold_write_transaction(conn, run_id: int) -> None:
    """Make sure a write transaction is open before any DDL.

    Python's sqlite3 opens a transaction only before a data change and runs DDL outside one
    otherwise; a harmless update first keeps a later DROP/CREATE inside our transaction, so a
    rollback undoes it too.
    """
    conn.execute(text("UPDATE import_runs SET progress_done = progress_done WHERE id = :id"),
                 {"id": run_id})


def bigger_cache(conn, megabytes: int):
    """Keep a big load's working set in memory (a fixed, bounded amount) instead of spilling
    half-written pages to the WAL; returns how to put the setting back."""
    if conn.dialect.name != "sqlite" or megabytes <= 0:
        return lambda: None
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = -{int(megabytes) * 1024}")
    return lambda: conn.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


class SearchIndexBatches:
    """What write steps call after inserting contacts: nothing here, the trigger does it."""

    def added(self, first_id: int, last_id: int) -> None:
        pass


class _SqliteSearchIndexBatches(SearchIndexBatches):
    def __init__(self, conn):
        self.conn = conn

    def added(self, first_id: int, last_id: int) -> None:
        self.conn.execute(text("INSERT INTO contacts_fts(rowid, search_text) SELECT id, "
                               "search_text FROM contacts WHERE id BETWEEN :a AND :b"),
                          {"a": first_id, "b": last_id})


@contextmanager
def without_cycle_collection():
    """Python's cycle collector paused for a loop that keeps many objects alive (the rows,
    decisions and keys of a 100,000-row file): each of its full passes walks all of them,
    which cost such a file about a fifth of its CPU time. The loop makes almost no cycles
    (a few thousand objects for 100,000 rows); they are collected as usual afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def search_index_in_batches(conn, run_id: int):
    """New contacts enter the SQLite search index one batch per statement instead of one
    trigger call per row (ten times faster for a big file). The caller reports each batch
    (before anything updates those rows); updates keep their trigger."""
    if conn.dialect.name != "sqlite":
        yield SearchIndexBatches()
        return
    create = next(s for s in search_index.SQLITE_CREATE if "contacts_fts_ai" in s)
    hold_write_transaction(conn, run_id)
    conn.exec_driver_sql("DROP TRIGGER IF EXISTS contacts_fts_ai")
    yield _SqliteSearchIndexBatches(conn)  # on an error the caller rolls back: trigger restored
    conn.exec_driver_sql(create)
