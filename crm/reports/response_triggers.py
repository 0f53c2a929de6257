"""Database triggers that log every change to the response times as counts to add to
response_day_counts (crm.reports.response_rollup): a response time written, answered, moved
or deleted gives its old key −1 and its new key +1 (key: UTC day of the burst's start,
contact owner, platform, responder, bucket of response time); a contact reassigned moves
its response times from the old owner to the new, a conversation moved to another contact
or platform from the old owner and platform to the new. The dashboard adds the logged
changes to the day rows before it reads them, so a change costs a few rows however many
response times its day holds.

On PostgreSQL the row trigger reads the contact's owner FOR SHARE: a concurrent
reassignment of that contact then waits for the change to commit, and its own trigger sees
the new response time (as crm.contacts.owner_copies does for deals).

The same statements run from migration 0009 and when tests or the benchmark create tables
directly. Migration 0004's triggers, which marked changed days for a recount, are kept below
as DIRTY_DAYS for that migration and 0009's downgrade.
"""
from crm.core.ddl import DialectDDL
from crm.reports.buckets import bucket_sql as bucket
from crm.reports.rollup import NO_OWNER

_COLUMNS = "burst_started_at, answered_at, response_seconds, responder_id, conversation_id"
_INSERT = ("INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, "
           "bursts, answered)")


def day(dialect: str, value: str) -> str:
    if dialect == "sqlite":
        return f"substr({value}, 1, 10)"
    return f"to_char({value}, 'YYYY-MM-DD')"


def count_into_changes(dialect: str, where: str) -> str:
    """Log the response times matching `where` (on r, their conversation c and contact k) as
    changes to add: how a bulk load that wrote them with the INSERT trigger off, or a
    recount, hands them to the rollup."""
    return (f"{_INSERT} SELECT {day(dialect, 'r.burst_started_at')}, "
            f"coalesce(k.owner_id, {NO_OWNER}), c.platform, coalesce(r.responder_id, 0), "
            f"{bucket('r.response_seconds')}, count(*), count(r.answered_at) "
            "FROM response_times r JOIN conversations c ON c.id = r.conversation_id "
            f"JOIN contacts k ON k.id = c.contact_id WHERE {where} GROUP BY 1, 2, 3, 4, 5")


def _log_many(dialect: str, sign: str, owner: str, platform: str, source: str) -> str:
    """Log the response times of `source` (FROM … WHERE on r, grouped by the day, responder
    and bucket) under `owner` and `platform`, with `sign`."""
    return (f"{_INSERT} SELECT {day(dialect, 'r.burst_started_at')}, "
            f"coalesce({owner}, {NO_OWNER}), {platform}, coalesce(r.responder_id, 0), "
            f"{bucket('r.response_seconds')}, {sign}count(*), {sign}count(r.answered_at) "
            f"{source} GROUP BY 1, 3, 4, 5;")


def _of_contact(contact: str) -> str:
    return ("FROM response_times r JOIN conversations c ON c.id = r.conversation_id "
            f"WHERE c.contact_id = {contact}")


def _of_conversation(conversation: str) -> str:
    return f"FROM response_times r WHERE r.conversation_id = {conversation}"


def _row(dialect: str, row: str, sign: str, owner: str, platform: str, tail: str = "") -> str:
    """Log one response time (`row`: new or old) under `owner` and `platform`."""
    return (f"{_INSERT} SELECT {day(dialect, f'{row}.burst_started_at')}, "
            f"coalesce({owner}, {NO_OWNER}), {platform}, coalesce({row}.responder_id, 0), "
            f"{bucket(f'{row}.response_seconds')}, {sign}1, "
            f"CASE WHEN {row}.answered_at IS NULL THEN 0 ELSE {sign}1 END{tail};")


_SQLITE_OF = ("FROM conversations c JOIN contacts k ON k.id = c.contact_id "
              "WHERE c.id = {}.conversation_id")
_SQLITE_CHANGED = " OR ".join(f"old.{c} IS NOT new.{c}" for c in _COLUMNS.split(", "))
_SQLITE_OWNER = "(SELECT owner_id FROM contacts WHERE id = {}.contact_id)"


def _sqlite_row(row: str, sign: str) -> str:
    return _row("sqlite", row, sign, "k.owner_id", "c.platform", " " + _SQLITE_OF.format(row))


SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS response_changes_ai AFTER INSERT ON response_times BEGIN "
    f"{_sqlite_row('new', '')} END",
    "CREATE TRIGGER IF NOT EXISTS response_changes_ad AFTER DELETE ON response_times BEGIN "
    f"{_sqlite_row('old', '-')} END",
    f"CREATE TRIGGER IF NOT EXISTS response_changes_au AFTER UPDATE OF {_COLUMNS} "
    f"ON response_times WHEN {_SQLITE_CHANGED} BEGIN {_sqlite_row('old', '-')} "
    f"{_sqlite_row('new', '')} END",
    "CREATE TRIGGER IF NOT EXISTS response_changes_contacts_au AFTER UPDATE OF owner_id "
    "ON contacts WHEN old.owner_id IS NOT new.owner_id BEGIN "
    f"{_log_many('sqlite', '-', 'old.owner_id', 'c.platform', _of_contact('new.id'))} "
    f"{_log_many('sqlite', '', 'new.owner_id', 'c.platform', _of_contact('new.id'))} END",
    "CREATE TRIGGER IF NOT EXISTS response_changes_conversations_au AFTER UPDATE OF "
    "contact_id, platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR "
    "old.platform IS NOT new.platform BEGIN "
    + _log_many("sqlite", "-", _SQLITE_OWNER.format("old"), "old.platform",
                _of_conversation("new.id"))
    + " " + _log_many("sqlite", "", _SQLITE_OWNER.format("new"), "new.platform",
                      _of_conversation("new.id")) + " END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS response_changes_{name}" for name in (
    "ai", "ad", "au", "contacts_au", "conversations_au")]

_PG_CHANGED = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _COLUMNS.split(", "))
# The owner FOR SHARE: see the module's docstring.
_PG_OWNER = ("SELECT k.owner_id, c.platform INTO row_owner, row_platform FROM conversations c "
             "JOIN contacts k ON k.id = c.contact_id WHERE c.id = {}.conversation_id "
             "FOR SHARE OF k;")
POSTGRES_CREATE = [
    "CREATE OR REPLACE FUNCTION response_changes_row() RETURNS trigger AS $$ "
    "DECLARE row_owner integer; row_platform varchar; BEGIN "
    f"IF TG_OP = 'UPDATE' AND NOT ({_PG_CHANGED}) THEN RETURN NULL; END IF; "
    f"IF TG_OP <> 'INSERT' THEN {_PG_OWNER.format('OLD')} "
    f"{_row('postgresql', 'OLD', '-', 'row_owner', 'row_platform')} END IF; "
    f"IF TG_OP <> 'DELETE' THEN {_PG_OWNER.format('NEW')} "
    f"{_row('postgresql', 'NEW', '', 'row_owner', 'row_platform')} END IF; "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION response_changes_contact() RETURNS trigger AS $$ BEGIN "
    f"{_log_many('postgresql', '-', 'OLD.owner_id', 'c.platform', _of_contact('NEW.id'))} "
    f"{_log_many('postgresql', '', 'NEW.owner_id', 'c.platform', _of_contact('NEW.id'))} "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION response_changes_conversation() RETURNS trigger AS $$ "
    "DECLARE was integer; now_owner integer; BEGIN "
    "SELECT owner_id INTO was FROM contacts WHERE id = OLD.contact_id; "
    "SELECT owner_id INTO now_owner FROM contacts WHERE id = NEW.contact_id; "
    f"{_log_many('postgresql', '-', 'was', 'OLD.platform', _of_conversation('NEW.id'))} "
    f"{_log_many('postgresql', '', 'now_owner', 'NEW.platform', _of_conversation('NEW.id'))} "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS response_changes ON response_times",
    f"CREATE TRIGGER response_changes AFTER INSERT OR DELETE OR UPDATE OF {_COLUMNS} "
    "ON response_times FOR EACH ROW EXECUTE FUNCTION response_changes_row()",
    "DROP TRIGGER IF EXISTS response_changes_contacts ON contacts",
    "CREATE TRIGGER response_changes_contacts AFTER UPDATE OF owner_id ON contacts FOR EACH ROW "
    "WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) "
    "EXECUTE FUNCTION response_changes_contact()",
    "DROP TRIGGER IF EXISTS response_changes_conversations ON conversations",
    "CREATE TRIGGER response_changes_conversations AFTER UPDATE OF contact_id, platform "
    "ON conversations FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR "
    "OLD.platform IS DISTINCT FROM NEW.platform) "
    "EXECUTE FUNCTION response_changes_conversation()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS response_changes ON response_times",
    "DROP TRIGGER IF EXISTS response_changes_contacts ON contacts",
    "DROP TRIGGER IF EXISTS response_changes_conversations ON conversations",
    "DROP FUNCTION IF EXISTS response_changes_row()",
    "DROP FUNCTION IF EXISTS response_changes_contact()",
    "DROP FUNCTION IF EXISTS response_changes_conversation()",
]

DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall


# Migration 0004's triggers (days marked dirty for a recount), replaced in 0009 ----------------
_DIRTY_UPSERT = "ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + 1"


def _dirty_sqlite_mark(row: str) -> str:
    return ("INSERT INTO response_dirty_days (day, changes) "
            f"VALUES (substr({row}.burst_started_at, 1, 10), 1) {_DIRTY_UPSERT};")


def _dirty_sqlite_mark_many(where: str) -> str:
    return ("INSERT INTO response_dirty_days (day, changes) "
            f"SELECT DISTINCT substr(r.burst_started_at, 1, 10), 1 FROM response_times r {where} "
            f"{_DIRTY_UPSERT};")


_DIRTY_SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS response_rollup_ai AFTER INSERT ON response_times BEGIN "
    f"{_dirty_sqlite_mark('new')} END",
    "CREATE TRIGGER IF NOT EXISTS response_rollup_ad AFTER DELETE ON response_times BEGIN "
    f"{_dirty_sqlite_mark('old')} END",
    f"CREATE TRIGGER IF NOT EXISTS response_rollup_au AFTER UPDATE OF {_COLUMNS} "
    f"ON response_times BEGIN {_dirty_sqlite_mark('old')} {_dirty_sqlite_mark('new')} END",
    "CREATE TRIGGER IF NOT EXISTS response_rollup_contacts_au AFTER UPDATE OF owner_id ON contacts "
    "WHEN old.owner_id IS NOT new.owner_id BEGIN "
    + _dirty_sqlite_mark_many("JOIN conversations c ON c.id = r.conversation_id "
                              "WHERE c.contact_id = new.id") + " END",
    "CREATE TRIGGER IF NOT EXISTS response_rollup_conversations_au AFTER UPDATE OF contact_id, "
    "platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR "
    "old.platform IS NOT new.platform BEGIN "
    + _dirty_sqlite_mark_many("WHERE r.conversation_id = new.id") + " END",
]
_DIRTY_SQLITE_DROP = [f"DROP TRIGGER IF EXISTS response_rollup_{name}" for name in (
    "ai", "ad", "au", "contacts_au", "conversations_au")]

_DIRTY_PG_DAY = "to_char({}.burst_started_at, 'YYYY-MM-DD')"
_DIRTY_POSTGRES_CREATE = [
    "CREATE OR REPLACE FUNCTION response_rollup_mark() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN INSERT INTO response_dirty_days (day, changes) "
    f"VALUES ({_DIRTY_PG_DAY.format('OLD')}, 1) {_DIRTY_UPSERT}; END IF; "
    "IF TG_OP <> 'DELETE' THEN INSERT INTO response_dirty_days (day, changes) "
    f"VALUES ({_DIRTY_PG_DAY.format('NEW')}, 1) {_DIRTY_UPSERT}; END IF; "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION response_rollup_mark_contact() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO response_dirty_days (day, changes) "
    f"SELECT DISTINCT {_DIRTY_PG_DAY.format('r')}, 1 FROM response_times r "
    "JOIN conversations c ON c.id = r.conversation_id WHERE c.contact_id = NEW.id "
    f"{_DIRTY_UPSERT}; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION response_rollup_mark_conversation() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO response_dirty_days (day, changes) "
    f"SELECT DISTINCT {_DIRTY_PG_DAY.format('r')}, 1 FROM response_times r "
    f"WHERE r.conversation_id = NEW.id {_DIRTY_UPSERT}; RETURN NULL; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS response_rollup ON response_times",
    f"CREATE TRIGGER response_rollup AFTER INSERT OR DELETE OR UPDATE OF {_COLUMNS} "
    "ON response_times FOR EACH ROW EXECUTE FUNCTION response_rollup_mark()",
    "DROP TRIGGER IF EXISTS response_rollup_contacts ON contacts",
    "CREATE TRIGGER response_rollup_contacts AFTER UPDATE OF owner_id ON contacts FOR EACH ROW "
    "WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) "
    "EXECUTE FUNCTION response_rollup_mark_contact()",
    "DROP TRIGGER IF EXISTS response_rollup_conversations ON conversations",
    "CREATE TRIGGER response_rollup_conversations AFTER UPDATE OF contact_id, platform "
    "ON conversations FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR "
    "OLD.platform IS DISTINCT FROM NEW.platform) "
    "EXECUTE FUNCTION response_rollup_mark_conversation()",
]
_DIRTY_POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS response_rollup ON response_times",
    "DROP TRIGGER IF EXISTS response_rollup_contacts ON contacts",
    "DROP TRIGGER IF EXISTS response_rollup_conversations ON conversations",
    "DROP FUNCTION IF EXISTS response_rollup_mark()",
    "DROP FUNCTION IF EXISTS response_rollup_mark_contact()",
    "DROP FUNCTION IF EXISTS response_rollup_mark_conversation()",
]


DIRTY_DAYS = DialectDDL(_DIRTY_SQLITE_CREATE, _DIRTY_SQLITE_DROP, _DIRTY_POSTGRES_CREATE,
                        _DIRTY_POSTGRES_DROP)
