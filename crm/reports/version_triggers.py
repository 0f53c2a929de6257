"""Database triggers that count changes per table in data_versions, for the reports cache
(crm.reports.cache): a figure is remembered per version of the tables it reads, so logging
a DM recomputes only what reads messages, conversations or response times, and moving a deal
only what reads deals and stage changes.

Whatever writes the rows — the app, an import, a bulk UPDATE, a merge, psql — the version
moves in the same transaction, so it is committed with the change. Contacts count only the
columns the figures read (owner, archived, consent); the audit log only the refusals of the
consent gate. SQLite runs one small upsert per row; PostgreSQL one per statement. The same
statements run from migration 0008 and when tests create tables directly.
"""
from contextlib import contextmanager

from crm.core.ddl import DialectDDL

# table -> the columns whose UPDATE counts (None: any UPDATE)
TABLES = {
    "messages": None,
    "response_times": None,
    "conversations": None,
    "contacts": "owner_id, archived_at, consent_status, do_not_contact",
    "deals": None,
    "stage_changes": None,
    "stages": None,
    "tasks": None,
    "consent_events": None,
}
REFUSALS = "outreach_refusals"   # the version of the audit log's refusals
_UPSERT = "ON CONFLICT (name) DO UPDATE SET version = data_versions.version + 1"


def _bump(name: str) -> str:
    """One more change of `name` (both databases; the row is written on the first)."""
    return f"INSERT INTO data_versions (name, version) VALUES ('{name}', 1) {_UPSERT}"


def _sqlite_bump(name: str) -> str:
    return _bump(name) + ";"


def _sqlite_trigger(table: str, suffix: str, event: str, name: str, when: str = "") -> str:
    return (f"CREATE TRIGGER IF NOT EXISTS data_version_{table}_{suffix} AFTER {event} "
            f"ON {table} {when}BEGIN {_sqlite_bump(name)} END")


SQLITE_CREATE = []
SQLITE_DROP = []
for _table, _columns in TABLES.items():
    _update = f"UPDATE OF {_columns}" if _columns else "UPDATE"
    for _suffix, _event in (("ai", "INSERT"), ("au", _update), ("ad", "DELETE")):
        SQLITE_CREATE.append(_sqlite_trigger(_table, _suffix, _event, _table))
        SQLITE_DROP.append(f"DROP TRIGGER IF EXISTS data_version_{_table}_{_suffix}")
SQLITE_CREATE += [
    _sqlite_trigger("audit_events", "ai", "INSERT", REFUSALS,
                    "WHEN new.action = 'outreach_refused' "),
    _sqlite_trigger("audit_events", "au", "UPDATE", REFUSALS),
    _sqlite_trigger("audit_events", "ad", "DELETE", REFUSALS),
]
SQLITE_DROP += [f"DROP TRIGGER IF EXISTS data_version_audit_events_{s}" for s in ("ai", "au", "ad")]

DEFERRED = "rapport.versions_deferred"    # a transaction-local setting, see deferred()
POSTGRES_CREATE = [
    "CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger AS $$ BEGIN "
    f"IF current_setting('{DEFERRED}', true) = 'on' THEN RETURN NULL; END IF; "
    "INSERT INTO data_versions (name, version) VALUES (TG_ARGV[0], 1) "
    f"{_UPSERT}; RETURN NULL; END $$ LANGUAGE plpgsql",
]
POSTGRES_DROP = []
for _table, _columns in TABLES.items():
    _update = f"UPDATE OF {_columns}" if _columns else "UPDATE"
    POSTGRES_CREATE += [
        f"DROP TRIGGER IF EXISTS data_version ON {_table}",
        f"CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR {_update} "
        f"ON {_table} FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('{_table}')",
    ]
    POSTGRES_DROP.append(f"DROP TRIGGER IF EXISTS data_version ON {_table}")
POSTGRES_CREATE += [
    "DROP TRIGGER IF EXISTS data_version_refusal ON audit_events",
    "CREATE TRIGGER data_version_refusal AFTER INSERT ON audit_events FOR EACH ROW "
    f"WHEN (NEW.action = 'outreach_refused') EXECUTE FUNCTION data_version_bump('{REFUSALS}')",
    "DROP TRIGGER IF EXISTS data_version ON audit_events",
    "CREATE TRIGGER data_version AFTER UPDATE OR DELETE OR TRUNCATE ON audit_events "
    f"FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('{REFUSALS}')",
]
POSTGRES_DROP += [
    "DROP TRIGGER IF EXISTS data_version_refusal ON audit_events",
    "DROP TRIGGER IF EXISTS data_version ON audit_events",
    "DROP FUNCTION IF EXISTS data_version_bump()",
]


DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall

@contextmanager
def deferred(connection):
    """Around a long bulk write (an import) on PostgreSQL: count its changes once, at the end.

    Counting takes the table's row of data_versions and keeps it locked until the commit, so
    an import counted from its first statement would queue every other writer of messages,
    contacts… behind the whole import. Inside this block the triggers count nothing (a
    setting local to the transaction); on the way out every table's version is bumped, which
    leaves the rows locked only between the end of the writes and the commit. If the block
    fails, the transaction is rolled back and there is nothing to count. SQLite has one
    writer at a time anyway: nothing changes there."""
    if connection.dialect.name != "postgresql":
        yield
        return
    connection.exec_driver_sql(f"SELECT set_config('{DEFERRED}', 'on', true)")
    yield
    connection.exec_driver_sql(f"SELECT set_config('{DEFERRED}', 'off', true)")
    bump_all(connection)


def bump_all(connection) -> None:
    """Count a change of every table the reports read, the refusals included."""
    for name in sorted([*TABLES, REFUSALS]):   # one order: two bumpers never deadlock
        connection.exec_driver_sql(_bump(name))


# A bulk load on SQLite suspends these INSERT triggers with the rollups' (one upsert per
# message costs more than it says) and counts the load once itself.
BULK_INSERT = ("messages", "response_times")


def suspend_insert_counting(connection) -> None:
    for table in BULK_INSERT:
        connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS data_version_{table}_ai")


def resume_insert_counting(connection) -> None:
    for table in BULK_INSERT:
        connection.exec_driver_sql(_bump(table))
        connection.exec_driver_sql(_sqlite_trigger(table, "ai", "INSERT", table))
