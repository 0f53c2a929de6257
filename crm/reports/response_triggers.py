"""Database triggers that mark the UTC days of changed response times dirty, for the
dashboard's response-time counts (crm.reports.response_rollup): a response time written,
answered, moved or deleted, a contact reassigned, a conversation moved to another contact
or platform. One small upsert per row; the same statements run from migration 0004 and
when tests create tables directly."""
from crm.core.ddl import DialectDDL

_UPSERT = "ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + 1"
_COLUMNS = "burst_started_at, answered_at, response_seconds, responder_id, conversation_id"


def _sqlite_mark(row: str) -> str:
    return ("INSERT INTO response_dirty_days (day, changes) "
            f"VALUES (substr({row}.burst_started_at, 1, 10), 1) {_UPSERT};")


def _sqlite_mark_many(where: str) -> str:
    return ("INSERT INTO response_dirty_days (day, changes) "
            f"SELECT DISTINCT substr(r.burst_started_at, 1, 10), 1 FROM response_times r {where} "
            f"{_UPSERT};")


SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS response_rollup_ai AFTER INSERT ON response_times BEGIN "
    f"{_sqlite_mark('new')} END",
    "CREATE TRIGGER IF NOT EXISTS response_rollup_ad AFTER DELETE ON response_times BEGIN "
    f"{_sqlite_mark('old')} END",
    f"CREATE TRIGGER IF NOT EXISTS response_rollup_au AFTER UPDATE OF {_COLUMNS} "
    f"ON response_times BEGIN {_sqlite_mark('old')} {_sqlite_mark('new')} END",
    "CREATE TRIGGER IF NOT EXISTS response_rollup_contacts_au AFTER UPDATE OF owner_id ON contacts "
    "WHEN old.owner_id IS NOT new.owner_id BEGIN "
    + _sqlite_mark_many("JOIN conversations c ON c.id = r.conversation_id "
                        "WHERE c.contact_id = new.id") + " END",
    "CREATE TRIGGER IF NOT EXISTS response_rollup_conversations_au AFTER UPDATE OF contact_id, "
    "platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR "
    "old.platform IS NOT new.platform BEGIN "
    + _sqlite_mark_many("WHERE r.conversation_id = new.id") + " END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS response_rollup_{name}" for name in (
    "ai", "ad", "au", "contacts_au", "conversations_au")]

_PG_DAY = "to_char({}.burst_started_at, 'YYYY-MM-DD')"
POSTGRES_CREATE = [
    "CREATE OR REPLACE FUNCTION response_rollup_mark() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN INSERT INTO response_dirty_days (day, changes) "
    f"VALUES ({_PG_DAY.format('OLD')}, 1) {_UPSERT}; END IF; "
    "IF TG_OP <> 'DELETE' THEN INSERT INTO response_dirty_days (day, changes) "
    f"VALUES ({_PG_DAY.format('NEW')}, 1) {_UPSERT}; END IF; "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION response_rollup_mark_contact() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO response_dirty_days (day, changes) "
    f"SELECT DISTINCT {_PG_DAY.format('r')}, 1 FROM response_times r "
    "JOIN conversations c ON c.id = r.conversation_id WHERE c.contact_id = NEW.id "
    f"{_UPSERT}; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION response_rollup_mark_conversation() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO response_dirty_days (day, changes) "
    f"SELECT DISTINCT {_PG_DAY.format('r')}, 1 FROM response_times r "
    f"WHERE r.conversation_id = NEW.id {_UPSERT}; RETURN NULL; END $$ LANGUAGE plpgsql",
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
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS response_rollup ON response_times",
    "DROP TRIGGER IF EXISTS response_rollup_contacts ON contacts",
    "DROP TRIGGER IF EXISTS response_rollup_conversations ON conversations",
    "DROP FUNCTION IF EXISTS response_rollup_mark()",
    "DROP FUNCTION IF EXISTS response_rollup_mark_contact()",
    "DROP FUNCTION IF EXISTS response_rollup_mark_conversation()",
]


DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall

