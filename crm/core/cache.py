"""Figures remembered across requests and processes, forgotten when what they read changes.

One mechanism, Flask-Caching (`crm.extensions.cache`), which every web process and job
worker shares: on Redis when REDIS_URL is set, in diskcache's SQLite file under CACHE_DIR
otherwise (the processes of one machine: crm.core.disk_cache). A change a worker commits —
a live DM taken in, an import — is then seen by the web's next load, and by the pages
polling for new DMs. A figure is remembered under its name and the view it is for (whose
scope, which filters), with the generation of each table it reads. The transaction that
changes a table gives the table a new generation when it commits, so the next load — in any
process — computes the figures that read it afresh, and figures that read only other tables
stay remembered. A figure computed from data read before a commit is kept with the
generations read before it, which no longer match: it can never be shown after the change.

Which tables a transaction changed is noted as it writes through the session (`_note_flush`,
`_note_statement`): rows added, changed or deleted through the ORM, and UPDATE/DELETE/INSERT
statements run with `db.session.execute` that touched a row. Contacts count only the columns
figures read; the audit log only the consent gate's refusals. Writes that go around the
session (the importer's executemany on the connection) name their tables with `changed()`.
Only plain values are kept (ids, counts, datetimes, dataclasses of them), never ORM objects.

A contact's latest outbound DM (`last_outbound_at`) moves with every DM sent, and only the
"unknown consent in outreach" figure reads it: it has a generation of its own (OUTREACH), so
that a DM does not renew `contacts`, which every figure scoped to a rep's contacts reads. A
statement that sets only that column says so with `.execution_options(changes=OUTREACH)`.
"""
import hashlib
import logging
import pickle
import uuid

from flask import current_app
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from crm.extensions import cache, db

log = logging.getLogger(__name__)
TIMEOUT = 3600
_CHANGED = "rapport.changed_tables"
# contacts: only a change of these columns moves a figure (name, notes… do not).
CONTACT_COLUMNS = ("owner_id", "archived_at", "consent_status", "do_not_contact")
OUTREACH = "contacts.last_outbound_at"   # the generation of the contacts' latest outbound DM
REFUSALS = "outreach_refusals"   # the audit log's refusals by the consent gate


def enabled() -> bool:
    # Tests wipe the database between cases, so most run without it (`remembering` turns it on).
    return bool(current_app.config.get("REPORTS_CACHE", not current_app.testing))


# Tables that change together share one generation: every DM writes a message, its
# conversation's reply state, the counts per hour and day and, when it answers, a response
# time; every move writes a deal and its stage history. Their commit then renews one entry,
# not one per table (a write to Redis or to diskcache's file costs a round trip each). A
# figure that reads one of them is recomputed after a change to any.
SHARED_GENERATIONS = {
    **dict.fromkeys(("conversations", "messages", "response_times", "dm_hour_counts",
                     "dm_hour_totals", "sent_day_totals", "response_day_counts"), "dms"),
    **dict.fromkeys(("deals", "stage_changes"), "pipeline"),
}


def _generation_keys(tables) -> list[str]:
    """The cache keys of these tables' generations, each once, in order."""
    return sorted({f"gen:{SHARED_GENERATIONS.get(t, t)}" for t in tables})


def generations(tables) -> tuple:
    """The current generation of `tables` (a new one for a table never seen), as a tuple
    to compare. Raises when the cache cannot be reached (callers fall back: remember,
    crm.channels.live)."""
    keys = _generation_keys(tables)
    found = cache.get_many(*keys)
    out = []
    for key, value in zip(keys, found):
        if value is None:
            value = uuid.uuid4().hex
            cache.add(key, value, timeout=0)
            value = cache.get(key) or value
        out.append(value)
    return tuple(out)


def remember(name: str, key: tuple, compute, reads: tuple):
    """compute(), or the value kept for the same name and key while none of the tables in
    `reads` has changed. One entry per name and key, holding the value with the generations
    read before it was computed: a change leaves them behind, and the next computation
    replaces the entry (the cache holds an entry per figure shown, however often the data
    changes). Callers treat the value as read-only. A transaction that has changed one of
    `reads` computes the value afresh and keeps nothing: what it sees is not committed."""
    if not enabled() or changed_here(reads):
        return compute()
    try:
        cache_key = f"fig:{name}:{hashlib.sha1(pickle.dumps((name, key))).hexdigest()}"
        current = generations(reads)
        kept = cache.get(cache_key)
    except Exception:   # the cache is down: the figure is computed, the page still shows
        log.exception("figure cache unavailable")
        return compute()
    if kept is not None and kept[0] == current:
        return kept[1]
    value = compute()
    if not changed_here(reads):   # the computation's own reads flushed no change of them
        cache.set(cache_key, (current, value), timeout=TIMEOUT)
    return value


def changed(session, *tables) -> None:
    """Note that this transaction changes `tables` (for writes that go around the session)."""
    session.info.setdefault(_CHANGED, set()).update(tables)


def changed_here(tables) -> bool:
    """Whether the session's transaction (a request's, a job's) has changed one of `tables`
    (written, or named by `changed`)."""
    pending = db.session.info.get(_CHANGED)
    return bool(pending) and not pending.isdisjoint(tables)


def clear() -> None:
    cache.clear()


@event.listens_for(Session, "after_flush")
def _note_flush(session, flush_context) -> None:
    tables = set()
    for obj in session.new | session.deleted:
        table = _table_of(obj, new=obj in session.new)
        if table:
            tables.add(table)
    for obj in session.dirty:
        table = _table_of(obj)
        if table == "contacts":
            state = inspect(obj)
            if state.attrs.last_outbound_at.history.has_changes():
                tables.add(OUTREACH)
            if not any(state.attrs[c].history.has_changes() for c in CONTACT_COLUMNS):
                continue
        if table and session.is_modified(obj, include_collections=False):
            tables.add(table)
    if tables:
        changed(session, *tables)


def _table_of(obj, new: bool = False):
    table = getattr(obj, "__tablename__", None)
    if table == "audit_events":
        return REFUSALS if new and obj.action == "outreach_refused" else None
    return table


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state) -> None:
    if not (state.is_update or state.is_delete or state.is_insert):
        return
    table = getattr(state.statement, "table", None)
    name = state.execution_options.get("changes") or getattr(table, "name", None)
    if name == "audit_events":
        name = REFUSALS if not state.is_insert else None
    if not name:
        return None
    result = state.invoke_statement()
    if getattr(result, "rowcount", -1) != 0:   # a statement that matched no row changed nothing
        changed(state.session, name)
    return result


@event.listens_for(Session, "after_commit")
def _new_generations(session) -> None:
    if session.in_nested_transaction():   # a savepoint released: renewed at the real commit
        return
    tables = session.info.pop(_CHANGED, None)
    if tables and current_app:
        try:
            cache.set_many({k: uuid.uuid4().hex for k in _generation_keys(tables)}, timeout=0)
        except Exception:   # the write is committed; remembered figures expire within TIMEOUT
            log.exception("figure cache unavailable: %s not renewed", sorted(tables))


@event.listens_for(Session, "after_rollback")
def _forget(session) -> None:
    # A savepoint rolled back (begin_nested) leaves the transaction going: the tables it
    # changed before the savepoint still get new generations when it commits.
    if session.in_nested_transaction():
        return
    session.info.pop(_CHANGED, None)
