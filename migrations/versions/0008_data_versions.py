"""data versions for the reports cache, each contact's last outbound DM

data_versions counts the changes to each table the dashboard reads, bumped by triggers in
the same transaction (crm.reports.version_triggers); the reports cache keys each figure on
the versions of the tables it reads, so a change recomputes only the figures it can move.
contacts.last_outbound_at keeps the latest last outbound DM of the contact's conversations
(triggers on conversations, crm.reports.outreach_triggers), counted here once for every
contact; "unknown consent in outreach" reads one range of ix_contacts_unknown_outreach.
tasks.source_replied_at keeps when an automatic follow-up's DM was answered (triggers,
crm.reports.followup_triggers); ix_tasks_auto_replied, covering the follow-ups figure with
it, replaces ix_tasks_auto_followups.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# The statements below are this migration's own copy of what it installed when it was written
# (frozen history: later changes to the application's code change nothing here).
VERSIONS_SQLITE_CREATE = [
    ('CREATE TRIGGER IF NOT EXISTS data_version_messages_ai AFTER INSERT ON messages BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('messages', 1) ON CONFLICT (name) "
     'DO UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_messages_au AFTER UPDATE ON messages BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('messages', 1) ON CONFLICT (name) "
     'DO UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_messages_ad AFTER DELETE ON messages BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('messages', 1) ON CONFLICT (name) "
     'DO UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_response_times_ai AFTER INSERT ON '
     'response_times BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('response_times', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_response_times_au AFTER UPDATE ON '
     'response_times BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('response_times', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_response_times_ad AFTER DELETE ON '
     'response_times BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('response_times', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_conversations_ai AFTER INSERT ON '
     'conversations BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('conversations', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_conversations_au AFTER UPDATE ON '
     'conversations BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('conversations', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_conversations_ad AFTER DELETE ON '
     'conversations BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('conversations', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_contacts_ai AFTER INSERT ON contacts BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('contacts', 1) ON CONFLICT (name) "
     'DO UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_contacts_au AFTER UPDATE OF owner_id, '
     'archived_at, consent_status, do_not_contact ON contacts BEGIN INSERT INTO '
     "data_versions (name, version) VALUES ('contacts', 1) ON CONFLICT (name) DO UPDATE "
     'SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_contacts_ad AFTER DELETE ON contacts BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('contacts', 1) ON CONFLICT (name) "
     'DO UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_deals_ai AFTER INSERT ON deals BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('deals', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_deals_au AFTER UPDATE ON deals BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('deals', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_deals_ad AFTER DELETE ON deals BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('deals', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_stage_changes_ai AFTER INSERT ON '
     'stage_changes BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('stage_changes', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_stage_changes_au AFTER UPDATE ON '
     'stage_changes BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('stage_changes', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_stage_changes_ad AFTER DELETE ON '
     'stage_changes BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('stage_changes', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_stages_ai AFTER INSERT ON stages BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('stages', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_stages_au AFTER UPDATE ON stages BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('stages', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_stages_ad AFTER DELETE ON stages BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('stages', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_tasks_ai AFTER INSERT ON tasks BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('tasks', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_tasks_au AFTER UPDATE ON tasks BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('tasks', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_tasks_ad AFTER DELETE ON tasks BEGIN '
     "INSERT INTO data_versions (name, version) VALUES ('tasks', 1) ON CONFLICT (name) DO "
     'UPDATE SET version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_consent_events_ai AFTER INSERT ON '
     'consent_events BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('consent_events', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_consent_events_au AFTER UPDATE ON '
     'consent_events BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('consent_events', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_consent_events_ad AFTER DELETE ON '
     'consent_events BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('consent_events', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_audit_events_ai AFTER INSERT ON '
     "audit_events WHEN new.action = 'outreach_refused' BEGIN INSERT INTO data_versions "
     "(name, version) VALUES ('outreach_refusals', 1) ON CONFLICT (name) DO UPDATE SET "
     'version = data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_audit_events_au AFTER UPDATE ON '
     'audit_events BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('outreach_refusals', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS data_version_audit_events_ad AFTER DELETE ON '
     'audit_events BEGIN INSERT INTO data_versions (name, version) VALUES '
     "('outreach_refusals', 1) ON CONFLICT (name) DO UPDATE SET version = "
     'data_versions.version + 1; END'),
]
VERSIONS_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS data_version_messages_ai',
    'DROP TRIGGER IF EXISTS data_version_messages_au',
    'DROP TRIGGER IF EXISTS data_version_messages_ad',
    'DROP TRIGGER IF EXISTS data_version_response_times_ai',
    'DROP TRIGGER IF EXISTS data_version_response_times_au',
    'DROP TRIGGER IF EXISTS data_version_response_times_ad',
    'DROP TRIGGER IF EXISTS data_version_conversations_ai',
    'DROP TRIGGER IF EXISTS data_version_conversations_au',
    'DROP TRIGGER IF EXISTS data_version_conversations_ad',
    'DROP TRIGGER IF EXISTS data_version_contacts_ai',
    'DROP TRIGGER IF EXISTS data_version_contacts_au',
    'DROP TRIGGER IF EXISTS data_version_contacts_ad',
    'DROP TRIGGER IF EXISTS data_version_deals_ai',
    'DROP TRIGGER IF EXISTS data_version_deals_au',
    'DROP TRIGGER IF EXISTS data_version_deals_ad',
    'DROP TRIGGER IF EXISTS data_version_stage_changes_ai',
    'DROP TRIGGER IF EXISTS data_version_stage_changes_au',
    'DROP TRIGGER IF EXISTS data_version_stage_changes_ad',
    'DROP TRIGGER IF EXISTS data_version_stages_ai',
    'DROP TRIGGER IF EXISTS data_version_stages_au',
    'DROP TRIGGER IF EXISTS data_version_stages_ad',
    'DROP TRIGGER IF EXISTS data_version_tasks_ai',
    'DROP TRIGGER IF EXISTS data_version_tasks_au',
    'DROP TRIGGER IF EXISTS data_version_tasks_ad',
    'DROP TRIGGER IF EXISTS data_version_consent_events_ai',
    'DROP TRIGGER IF EXISTS data_version_consent_events_au',
    'DROP TRIGGER IF EXISTS data_version_consent_events_ad',
    'DROP TRIGGER IF EXISTS data_version_audit_events_ai',
    'DROP TRIGGER IF EXISTS data_version_audit_events_au',
    'DROP TRIGGER IF EXISTS data_version_audit_events_ad',
]
VERSIONS_POSTGRESQL_CREATE = [
    ('CREATE OR REPLACE FUNCTION data_version_bump() RETURNS trigger AS $$ BEGIN IF '
     "current_setting('rapport.versions_deferred', true) = 'on' THEN RETURN NULL; END IF; "
     'INSERT INTO data_versions (name, version) VALUES (TG_ARGV[0], 1) ON CONFLICT (name) '
     'DO UPDATE SET version = data_versions.version + 1; RETURN NULL; END $$ LANGUAGE '
     'plpgsql'),
    'DROP TRIGGER IF EXISTS data_version ON messages',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE ON messages '
     "FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('messages')"),
    'DROP TRIGGER IF EXISTS data_version ON response_times',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE ON '
     'response_times FOR EACH STATEMENT EXECUTE FUNCTION '
     "data_version_bump('response_times')"),
    'DROP TRIGGER IF EXISTS data_version ON conversations',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE ON '
     "conversations FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('conversations')"),
    'DROP TRIGGER IF EXISTS data_version ON contacts',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE OF '
     'owner_id, archived_at, consent_status, do_not_contact ON contacts FOR EACH STATEMENT '
     "EXECUTE FUNCTION data_version_bump('contacts')"),
    'DROP TRIGGER IF EXISTS data_version ON deals',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE ON deals '
     "FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('deals')"),
    'DROP TRIGGER IF EXISTS data_version ON stage_changes',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE ON '
     "stage_changes FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('stage_changes')"),
    'DROP TRIGGER IF EXISTS data_version ON stages',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE ON stages '
     "FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('stages')"),
    'DROP TRIGGER IF EXISTS data_version ON tasks',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE ON tasks '
     "FOR EACH STATEMENT EXECUTE FUNCTION data_version_bump('tasks')"),
    'DROP TRIGGER IF EXISTS data_version ON consent_events',
    ('CREATE TRIGGER data_version AFTER INSERT OR DELETE OR TRUNCATE OR UPDATE ON '
     'consent_events FOR EACH STATEMENT EXECUTE FUNCTION '
     "data_version_bump('consent_events')"),
    'DROP TRIGGER IF EXISTS data_version_refusal ON audit_events',
    ('CREATE TRIGGER data_version_refusal AFTER INSERT ON audit_events FOR EACH ROW WHEN '
     "(NEW.action = 'outreach_refused') EXECUTE FUNCTION "
     "data_version_bump('outreach_refusals')"),
    'DROP TRIGGER IF EXISTS data_version ON audit_events',
    ('CREATE TRIGGER data_version AFTER UPDATE OR DELETE OR TRUNCATE ON audit_events FOR '
     "EACH STATEMENT EXECUTE FUNCTION data_version_bump('outreach_refusals')"),
]
VERSIONS_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS data_version ON messages',
    'DROP TRIGGER IF EXISTS data_version ON response_times',
    'DROP TRIGGER IF EXISTS data_version ON conversations',
    'DROP TRIGGER IF EXISTS data_version ON contacts',
    'DROP TRIGGER IF EXISTS data_version ON deals',
    'DROP TRIGGER IF EXISTS data_version ON stage_changes',
    'DROP TRIGGER IF EXISTS data_version ON stages',
    'DROP TRIGGER IF EXISTS data_version ON tasks',
    'DROP TRIGGER IF EXISTS data_version ON consent_events',
    'DROP TRIGGER IF EXISTS data_version_refusal ON audit_events',
    'DROP TRIGGER IF EXISTS data_version ON audit_events',
    'DROP FUNCTION IF EXISTS data_version_bump()',
]

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
    op.create_table('data_versions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    _execute(VERSIONS_SQLITE_CREATE, VERSIONS_POSTGRESQL_CREATE)
    op.add_column('contacts', sa.Column('last_outbound_at', sa.DateTime(), nullable=True))
    op.execute(OUTREACH_RECOUNT_ALL)
    op.create_index('ix_contacts_unknown_outreach', 'contacts', ['last_outbound_at', 'owner_id'],
                    unique=False,
                    sqlite_where=sa.text("archived_at IS NULL AND consent_status = 'unknown' "
                                         "AND do_not_contact = 0"),
                    postgresql_where=sa.text("archived_at IS NULL AND consent_status = 'unknown' "
                                             "AND do_not_contact = false"))
    _execute(OUTREACH_SQLITE_CREATE, OUTREACH_POSTGRESQL_CREATE)
    op.add_column('tasks', sa.Column('source_replied_at', sa.DateTime(), nullable=True))
    op.execute(FOLLOWUP_RECOUNT_ALL)
    op.drop_index('ix_tasks_auto_followups', table_name='tasks')
    op.create_index('ix_tasks_auto_replied', 'tasks',
                    ['auto', 'created_at', 'assignee_id', 'source_replied_at'], unique=False)
    _execute(FOLLOWUP_SQLITE_CREATE, FOLLOWUP_POSTGRESQL_CREATE)


def downgrade():
    _execute(FOLLOWUP_SQLITE_DROP, FOLLOWUP_POSTGRESQL_DROP)
    op.drop_index('ix_tasks_auto_replied', table_name='tasks')
    op.create_index('ix_tasks_auto_followups', 'tasks',
                    ['auto', 'created_at', 'source_message_id', 'assignee_id'], unique=False)
    op.drop_column('tasks', 'source_replied_at')
    _execute(OUTREACH_SQLITE_DROP, OUTREACH_POSTGRESQL_DROP)
    op.drop_index('ix_contacts_unknown_outreach', table_name='contacts')
    # A plain ALTER TABLE on SQLite too (3.35+): a batch copy would drop the table's triggers.
    op.drop_column('contacts', 'last_outbound_at')
    _execute(VERSIONS_SQLITE_DROP, VERSIONS_POSTGRESQL_DROP)
    op.drop_table('data_versions')
