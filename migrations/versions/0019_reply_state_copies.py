"""contacts' last outbound DM and follow-ups' replies written with the reply state

contacts.last_outbound_at and tasks.source_replied_at stay; the ingestion service's reply
state (crm.conversations.reply_state) writes them in the transaction that changes the
conversation or the message, so 0008's triggers for them go. Downgrading puts the triggers
back and recounts both columns.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 14:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# 0008's triggers and recounts, copied here (frozen history).
OUTREACH_SQLITE_CREATE = [
    ('CREATE TRIGGER IF NOT EXISTS contact_last_outbound_ai AFTER INSERT ON conversations '
     'WHEN new.last_outbound_at IS NOT NULL BEGIN UPDATE contacts SET last_outbound_at = '
     '(SELECT max(c.last_outbound_at) FROM conversations c WHERE c.contact_id = '
     'new.contact_id) WHERE id = new.contact_id; END'),
    ('CREATE TRIGGER IF NOT EXISTS contact_last_outbound_au AFTER UPDATE OF '
     'last_outbound_at, contact_id ON conversations WHEN old.last_outbound_at IS NOT '
     'new.last_outbound_at OR old.contact_id IS NOT new.contact_id BEGIN UPDATE contacts '
     'SET last_outbound_at = (SELECT max(c.last_outbound_at) FROM conversations c WHERE '
     'c.contact_id = new.contact_id) WHERE id = new.contact_id; UPDATE contacts SET '
     'last_outbound_at = (SELECT max(c.last_outbound_at) FROM conversations c WHERE '
     'c.contact_id = old.contact_id) WHERE id = old.contact_id AND old.contact_id IS NOT '
     'new.contact_id; END'),
    ('CREATE TRIGGER IF NOT EXISTS contact_last_outbound_ad AFTER DELETE ON conversations '
     'WHEN old.last_outbound_at IS NOT NULL BEGIN UPDATE contacts SET last_outbound_at = '
     '(SELECT max(c.last_outbound_at) FROM conversations c WHERE c.contact_id = '
     'old.contact_id) WHERE id = old.contact_id; END'),
]
OUTREACH_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS contact_last_outbound_ai',
    'DROP TRIGGER IF EXISTS contact_last_outbound_au',
    'DROP TRIGGER IF EXISTS contact_last_outbound_ad',
]
OUTREACH_POSTGRESQL_CREATE = [
    ('CREATE OR REPLACE FUNCTION contact_last_outbound_recount() RETURNS trigger AS $$ '
     "BEGIN IF TG_OP = 'UPDATE' AND OLD.last_outbound_at IS NOT DISTINCT FROM "
     'NEW.last_outbound_at AND OLD.contact_id IS NOT DISTINCT FROM NEW.contact_id THEN '
     "RETURN NULL; END IF; IF TG_OP <> 'DELETE' AND (TG_OP = 'UPDATE' OR "
     'NEW.last_outbound_at IS NOT NULL) THEN UPDATE contacts SET last_outbound_at = '
     '(SELECT max(c.last_outbound_at) FROM conversations c WHERE c.contact_id = '
     "NEW.contact_id) WHERE id = NEW.contact_id; END IF; IF TG_OP = 'DELETE' AND "
     "OLD.last_outbound_at IS NOT NULL OR TG_OP = 'UPDATE' AND OLD.contact_id IS DISTINCT "
     'FROM NEW.contact_id THEN UPDATE contacts SET last_outbound_at = (SELECT '
     'max(c.last_outbound_at) FROM conversations c WHERE c.contact_id = OLD.contact_id) '
     'WHERE id = OLD.contact_id; END IF; RETURN NULL; END $$ LANGUAGE plpgsql'),
    'DROP TRIGGER IF EXISTS contact_last_outbound ON conversations',
    ('CREATE TRIGGER contact_last_outbound AFTER INSERT OR DELETE OR UPDATE OF '
     'last_outbound_at, contact_id ON conversations FOR EACH ROW EXECUTE FUNCTION '
     'contact_last_outbound_recount()'),
]
OUTREACH_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS contact_last_outbound ON conversations',
    'DROP FUNCTION IF EXISTS contact_last_outbound_recount()',
]

FOLLOWUP_SQLITE_CREATE = [
    ('CREATE TRIGGER IF NOT EXISTS followup_reply_messages_au AFTER UPDATE OF replied_at '
     'ON messages WHEN old.replied_at IS NOT new.replied_at BEGIN UPDATE tasks SET '
     'source_replied_at = new.replied_at WHERE source_message_id = new.id; END'),
    ('CREATE TRIGGER IF NOT EXISTS followup_reply_messages_ad AFTER DELETE ON messages '
     'BEGIN UPDATE tasks SET source_replied_at = NULL WHERE source_message_id = old.id AND '
     'source_replied_at IS NOT NULL; END'),
    ('CREATE TRIGGER IF NOT EXISTS followup_reply_tasks_ai AFTER INSERT ON tasks WHEN '
     'new.source_message_id IS NOT NULL BEGIN UPDATE tasks SET source_replied_at = (SELECT '
     'm.replied_at FROM messages m WHERE m.id = new.source_message_id) WHERE id = new.id; '
     'END'),
    ('CREATE TRIGGER IF NOT EXISTS followup_reply_tasks_au AFTER UPDATE OF '
     'source_message_id ON tasks WHEN old.source_message_id IS NOT new.source_message_id '
     'BEGIN UPDATE tasks SET source_replied_at = (SELECT m.replied_at FROM messages m '
     'WHERE m.id = new.source_message_id) WHERE id = new.id; END'),
]
FOLLOWUP_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS followup_reply_messages_au',
    'DROP TRIGGER IF EXISTS followup_reply_messages_ad',
    'DROP TRIGGER IF EXISTS followup_reply_tasks_ai',
    'DROP TRIGGER IF EXISTS followup_reply_tasks_au',
]
FOLLOWUP_POSTGRESQL_CREATE = [
    ('CREATE OR REPLACE FUNCTION followup_reply_from_message() RETURNS trigger AS $$ BEGIN '
     "IF TG_OP = 'DELETE' THEN IF EXISTS (SELECT 1 FROM tasks WHERE source_message_id = "
     'OLD.id AND source_replied_at IS NOT NULL) THEN UPDATE tasks SET source_replied_at = '
     'NULL WHERE source_message_id = OLD.id; END IF; ELSIF OLD.replied_at IS DISTINCT FROM '
     'NEW.replied_at AND EXISTS (SELECT 1 FROM tasks WHERE source_message_id = NEW.id) '
     'THEN UPDATE tasks SET source_replied_at = NEW.replied_at WHERE source_message_id = '
     'NEW.id; END IF; RETURN NULL; END $$ LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION followup_reply_of_task() RETURNS trigger AS $$ BEGIN '
     'NEW.source_replied_at := (SELECT m.replied_at FROM messages m WHERE m.id = '
     'NEW.source_message_id); RETURN NEW; END $$ LANGUAGE plpgsql'),
    'DROP TRIGGER IF EXISTS followup_reply ON messages',
    ('CREATE TRIGGER followup_reply AFTER DELETE OR UPDATE OF replied_at ON messages FOR '
     'EACH ROW EXECUTE FUNCTION followup_reply_from_message()'),
    'DROP TRIGGER IF EXISTS followup_reply ON tasks',
    ('CREATE TRIGGER followup_reply BEFORE INSERT OR UPDATE OF source_message_id ON tasks '
     'FOR EACH ROW EXECUTE FUNCTION followup_reply_of_task()'),
]
FOLLOWUP_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS followup_reply ON messages',
    'DROP TRIGGER IF EXISTS followup_reply ON tasks',
    'DROP FUNCTION IF EXISTS followup_reply_from_message()',
    'DROP FUNCTION IF EXISTS followup_reply_of_task()',
]

OUTREACH_RECOUNT_ALL = ('UPDATE contacts SET last_outbound_at = (SELECT max(c.last_outbound_at) FROM '
                        'conversations c WHERE c.contact_id = contacts.id)')
FOLLOWUP_RECOUNT_ALL = ('UPDATE tasks SET source_replied_at = (SELECT m.replied_at FROM messages m WHERE m.id '
                        '= tasks.source_message_id) WHERE source_message_id IS NOT NULL')


def _execute(sqlite: list[str], postgresql: list[str]) -> None:
    """Run the statements written for the database being migrated."""
    bind = op.get_bind()
    for sql in {'sqlite': sqlite, 'postgresql': postgresql}.get(bind.dialect.name, []):
        bind.exec_driver_sql(sql)


def upgrade():
    _execute(FOLLOWUP_SQLITE_DROP, FOLLOWUP_POSTGRESQL_DROP)
    _execute(OUTREACH_SQLITE_DROP, OUTREACH_POSTGRESQL_DROP)


def downgrade():
    op.execute(OUTREACH_RECOUNT_ALL)
    _execute(OUTREACH_SQLITE_CREATE, OUTREACH_POSTGRESQL_CREATE)
    op.execute(FOLLOWUP_RECOUNT_ALL)
    _execute(FOLLOWUP_SQLITE_CREATE, FOLLOWUP_POSTGRESQL_CREATE)
