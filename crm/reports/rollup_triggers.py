"""Database triggers that mark the UTC hours of changed messages dirty for the DM rollup.

Whatever writes the rows — logging a DM, an import, the reply state setting replied_at,
deleting a message, reassigning a contact, moving a conversation — the hours it touched land
in dm_dirty_hours in the same transaction, and the dashboard refreshes them before it reads
(crm.reports.rollup). The trigger does one small upsert per row and nothing else.
The same statements run from the migration and when tests create tables directly.
"""
from crm.core.ddl import DialectDDL
from crm.reports import response_triggers

_UPSERT = "ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1"
_MESSAGE_COLUMNS = "sent_at, direction, author_id, template_id, replied_at, conversation_id"


def _sqlite_mark(row: str) -> str:
    return (f"INSERT INTO dm_dirty_hours (hour, changes) VALUES (substr({row}.sent_at, 1, 13), 1) "
            f"{_UPSERT};")


def _sqlite_mark_messages(where: str) -> str:
    return ("INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT substr(m.sent_at, 1, 13), 1 "
            f"FROM messages m {where} {_UPSERT};")


SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_ai AFTER INSERT ON messages BEGIN "
    f"{_sqlite_mark('new')} END",
    "CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_ad AFTER DELETE ON messages BEGIN "
    f"{_sqlite_mark('old')} END",
    f"CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_au AFTER UPDATE OF {_MESSAGE_COLUMNS} "
    f"ON messages BEGIN {_sqlite_mark('old')} {_sqlite_mark('new')} END",
    "CREATE TRIGGER IF NOT EXISTS dm_rollup_contacts_au AFTER UPDATE OF owner_id ON contacts "
    "WHEN old.owner_id IS NOT new.owner_id BEGIN "
    + _sqlite_mark_messages("JOIN conversations c ON c.id = m.conversation_id "
                            "WHERE c.contact_id = new.id") + " END",
    "CREATE TRIGGER IF NOT EXISTS dm_rollup_conversations_au AFTER UPDATE OF contact_id, platform "
    "ON conversations WHEN old.contact_id IS NOT new.contact_id OR old.platform IS NOT new.platform "
    "BEGIN " + _sqlite_mark_messages("WHERE m.conversation_id = new.id") + " END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS dm_rollup_{name}" for name in (
    "messages_ai", "messages_ad", "messages_au", "contacts_au", "conversations_au")]

_PG_HOUR = "to_char({}.sent_at, 'YYYY-MM-DD HH24')"
POSTGRES_CREATE = [
    "CREATE OR REPLACE FUNCTION dm_rollup_mark_message() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP <> 'INSERT' THEN INSERT INTO dm_dirty_hours (hour, changes) "
    f"VALUES ({_PG_HOUR.format('OLD')}, 1) {_UPSERT}; END IF; "
    "IF TG_OP <> 'DELETE' THEN INSERT INTO dm_dirty_hours (hour, changes) "
    f"VALUES ({_PG_HOUR.format('NEW')}, 1) {_UPSERT}; END IF; "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION dm_rollup_mark_contact() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO dm_dirty_hours (hour, changes) "
    f"SELECT DISTINCT {_PG_HOUR.format('m')}, 1 FROM messages m "
    "JOIN conversations c ON c.id = m.conversation_id WHERE c.contact_id = NEW.id "
    f"{_UPSERT}; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION dm_rollup_mark_conversation() RETURNS trigger AS $$ BEGIN "
    "INSERT INTO dm_dirty_hours (hour, changes) "
    f"SELECT DISTINCT {_PG_HOUR.format('m')}, 1 FROM messages m WHERE m.conversation_id = NEW.id "
    f"{_UPSERT}; RETURN NULL; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS dm_rollup_messages ON messages",
    f"CREATE TRIGGER dm_rollup_messages AFTER INSERT OR DELETE OR UPDATE OF {_MESSAGE_COLUMNS} "
    "ON messages FOR EACH ROW EXECUTE FUNCTION dm_rollup_mark_message()",
    "DROP TRIGGER IF EXISTS dm_rollup_contacts ON contacts",
    "CREATE TRIGGER dm_rollup_contacts AFTER UPDATE OF owner_id ON contacts FOR EACH ROW "
    "WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION dm_rollup_mark_contact()",
    "DROP TRIGGER IF EXISTS dm_rollup_conversations ON conversations",
    "CREATE TRIGGER dm_rollup_conversations AFTER UPDATE OF contact_id, platform ON conversations "
    "FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR "
    "OLD.platform IS DISTINCT FROM NEW.platform) EXECUTE FUNCTION dm_rollup_mark_conversation()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS dm_rollup_messages ON messages",
    "DROP TRIGGER IF EXISTS dm_rollup_contacts ON contacts",
    "DROP TRIGGER IF EXISTS dm_rollup_conversations ON conversations",
    "DROP FUNCTION IF EXISTS dm_rollup_mark_message()",
    "DROP FUNCTION IF EXISTS dm_rollup_mark_contact()",
    "DROP FUNCTION IF EXISTS dm_rollup_mark_conversation()",
]


DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall



def suspend_insert_marking(connection) -> None:
    """For a bulk load on SQLite, inside its transaction: stop marking hours (messages) and
    logging response times row by row on INSERT — a million trigger writes cost more than the
    load's own inserts. The load adds what it counted itself (crm.reports.loaded) and gives
    `resume_insert_marking` what it did not count; that marks it and puts the triggers back,
    before the transaction commits, so nothing is left unmarked (a rollback restores the
    triggers with the rest)."""
    connection.exec_driver_sql(SQLITE_DROP[0])
    connection.exec_driver_sql(response_triggers.SQLITE_DROP[0])


def resume_insert_marking(connection, hours: list[str], responses_after: int) -> None:
    """Mark `hours` (of messages the load did not count) dirty, log the response times
    written after id `responses_after` (in one grouped statement), count the load in
    and put the INSERT triggers back."""
    if hours:
        connection.exec_driver_sql(
            f"INSERT INTO dm_dirty_hours (hour, changes) VALUES (?, 1) {_UPSERT}",
            [(h,) for h in hours])
    connection.exec_driver_sql(
        response_triggers.count_into_changes("sqlite", "r.id > ?"), (responses_after,))
    connection.exec_driver_sql(SQLITE_CREATE[0])
    connection.exec_driver_sql(response_triggers.SQLITE_CREATE[0])
