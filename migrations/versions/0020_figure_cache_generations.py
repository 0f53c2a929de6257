"""the figure cache no longer counts table versions in the database

The dashboard's remembered figures and the badges are keyed on generations kept in the
cache itself (crm.core.cache, Flask-Caching), renewed by the transaction that changes a
table when it commits, so data_versions and 0008's triggers that bumped it go (on
PostgreSQL every writer of a table queued on its row until the commit). Downgrading puts
the table back empty (every remembered figure is recomputed) with its triggers.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 14:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

# 0008's triggers, copied here (frozen history).
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


def _execute(sqlite: list[str], postgresql: list[str]) -> None:
    """Run the statements written for the database being migrated."""
    bind = op.get_bind()
    for sql in {'sqlite': sqlite, 'postgresql': postgresql}.get(bind.dialect.name, []):
        bind.exec_driver_sql(sql)


def upgrade():
    _execute(VERSIONS_SQLITE_DROP, VERSIONS_POSTGRESQL_DROP)
    op.drop_table('data_versions')


def downgrade():
    op.create_table('data_versions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    _execute(VERSIONS_SQLITE_CREATE, VERSIONS_POSTGRESQL_CREATE)
