"""Database triggers that keep tasks.source_replied_at: when the DM an automatic follow-up
was created for was answered (the message's replied_at), for the dashboard's "follow-ups
followed by a reply" (crm.reports.work_figures), which then reads the tasks alone instead
of looking up one message per follow-up.

Whatever writes the rows — the reply state setting or clearing replied_at, an import, a
deleted message, a follow-up created or pointed at another message — the task takes the
message's time in the same transaction. A message's change probes the unique
source_message_id index and writes only when a follow-up points at it. The same statements
run from migration 0008 and when tests create tables directly.
"""
from crm.core.ddl import DialectDDL

_FROM_MESSAGE = "(SELECT m.replied_at FROM messages m WHERE m.id = {id})"
# Every follow-up at once: the backfill, and the benchmark generator after its load.
RECOUNT_ALL = (f"UPDATE tasks SET source_replied_at = {_FROM_MESSAGE.format(id='tasks.source_message_id')} "
               "WHERE source_message_id IS NOT NULL")

SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS followup_reply_messages_au AFTER UPDATE OF replied_at "
    "ON messages WHEN old.replied_at IS NOT new.replied_at BEGIN "
    "UPDATE tasks SET source_replied_at = new.replied_at WHERE source_message_id = new.id; END",
    "CREATE TRIGGER IF NOT EXISTS followup_reply_messages_ad AFTER DELETE ON messages BEGIN "
    "UPDATE tasks SET source_replied_at = NULL WHERE source_message_id = old.id "
    "AND source_replied_at IS NOT NULL; END",
    "CREATE TRIGGER IF NOT EXISTS followup_reply_tasks_ai AFTER INSERT ON tasks "
    "WHEN new.source_message_id IS NOT NULL BEGIN UPDATE tasks SET source_replied_at = "
    f"{_FROM_MESSAGE.format(id='new.source_message_id')} WHERE id = new.id; END",
    "CREATE TRIGGER IF NOT EXISTS followup_reply_tasks_au AFTER UPDATE OF source_message_id "
    "ON tasks WHEN old.source_message_id IS NOT new.source_message_id BEGIN "
    f"UPDATE tasks SET source_replied_at = {_FROM_MESSAGE.format(id='new.source_message_id')} "
    "WHERE id = new.id; END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS followup_reply_{name}" for name in (
    "messages_au", "messages_ad", "tasks_ai", "tasks_au")]

POSTGRES_CREATE = [
    # Only when a follow-up points at the message: an UPDATE of tasks, even of no row, would
    # count as a change of the tasks for the reports cache (crm.reports.version_triggers).
    "CREATE OR REPLACE FUNCTION followup_reply_from_message() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN "
    "IF EXISTS (SELECT 1 FROM tasks WHERE source_message_id = OLD.id "
    "AND source_replied_at IS NOT NULL) THEN "
    "UPDATE tasks SET source_replied_at = NULL WHERE source_message_id = OLD.id; END IF; "
    "ELSIF OLD.replied_at IS DISTINCT FROM NEW.replied_at "
    "AND EXISTS (SELECT 1 FROM tasks WHERE source_message_id = NEW.id) THEN "
    "UPDATE tasks SET source_replied_at = NEW.replied_at WHERE source_message_id = NEW.id; "
    "END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION followup_reply_of_task() RETURNS trigger AS $$ BEGIN "
    f"NEW.source_replied_at := {_FROM_MESSAGE.format(id='NEW.source_message_id')}; "
    "RETURN NEW; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS followup_reply ON messages",
    "CREATE TRIGGER followup_reply AFTER DELETE OR UPDATE OF replied_at ON messages "
    "FOR EACH ROW EXECUTE FUNCTION followup_reply_from_message()",
    "DROP TRIGGER IF EXISTS followup_reply ON tasks",
    "CREATE TRIGGER followup_reply BEFORE INSERT OR UPDATE OF source_message_id ON tasks "
    "FOR EACH ROW EXECUTE FUNCTION followup_reply_of_task()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS followup_reply ON messages",
    "DROP TRIGGER IF EXISTS followup_reply ON tasks",
    "DROP FUNCTION IF EXISTS followup_reply_from_message()",
    "DROP FUNCTION IF EXISTS followup_reply_of_task()",
]


DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall
