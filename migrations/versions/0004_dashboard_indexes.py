"""dashboard covering indexes and response-time rollup

The manager dashboard's stage-history funnel and time in stage, the automatic follow-ups,
overdue tasks per person and the "unknown consent in outreach" count read these indexes
alone instead of visiting table rows. Each replaces a narrower index with the same leading
columns, so writes keep the same number of index updates (stage changes gain one).
response_day_counts counts first responses per UTC day (crm.reports.response_rollup), kept
by triggers marking changed days in response_dirty_days (replaced in 0009).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 16:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The statements below are this migration's own copy of what it installed when it was written
# (frozen history: later changes to the application's code change nothing here).
DIRTY_DAYS_SQLITE_CREATE = [
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_ai AFTER INSERT ON response_times BEGIN '
     'INSERT INTO response_dirty_days (day, changes) VALUES (substr(new.burst_started_at, '
     '1, 10), 1) ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + '
     '1; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_ad AFTER DELETE ON response_times BEGIN '
     'INSERT INTO response_dirty_days (day, changes) VALUES (substr(old.burst_started_at, '
     '1, 10), 1) ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + '
     '1; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_au AFTER UPDATE OF burst_started_at, '
     'answered_at, response_seconds, responder_id, conversation_id ON response_times BEGIN '
     'INSERT INTO response_dirty_days (day, changes) VALUES (substr(old.burst_started_at, '
     '1, 10), 1) ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + '
     '1; INSERT INTO response_dirty_days (day, changes) VALUES '
     '(substr(new.burst_started_at, 1, 10), 1) ON CONFLICT (day) DO UPDATE SET changes = '
     'response_dirty_days.changes + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_contacts_au AFTER UPDATE OF owner_id ON '
     'contacts WHEN old.owner_id IS NOT new.owner_id BEGIN INSERT INTO response_dirty_days '
     '(day, changes) SELECT DISTINCT substr(r.burst_started_at, 1, 10), 1 FROM '
     'response_times r JOIN conversations c ON c.id = r.conversation_id WHERE c.contact_id '
     '= new.id ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + 1; '
     'END'),
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_conversations_au AFTER UPDATE OF '
     'contact_id, platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR '
     'old.platform IS NOT new.platform BEGIN INSERT INTO response_dirty_days (day, '
     'changes) SELECT DISTINCT substr(r.burst_started_at, 1, 10), 1 FROM response_times r '
     'WHERE r.conversation_id = new.id ON CONFLICT (day) DO UPDATE SET changes = '
     'response_dirty_days.changes + 1; END'),
]
DIRTY_DAYS_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS response_rollup_ai',
    'DROP TRIGGER IF EXISTS response_rollup_ad',
    'DROP TRIGGER IF EXISTS response_rollup_au',
    'DROP TRIGGER IF EXISTS response_rollup_contacts_au',
    'DROP TRIGGER IF EXISTS response_rollup_conversations_au',
]
DIRTY_DAYS_POSTGRESQL_CREATE = [
    ('CREATE OR REPLACE FUNCTION response_rollup_mark() RETURNS trigger AS $$ BEGIN IF '
     "TG_OP <> 'INSERT' THEN INSERT INTO response_dirty_days (day, changes) VALUES "
     "(to_char(OLD.burst_started_at, 'YYYY-MM-DD'), 1) ON CONFLICT (day) DO UPDATE SET "
     "changes = response_dirty_days.changes + 1; END IF; IF TG_OP <> 'DELETE' THEN INSERT "
     'INTO response_dirty_days (day, changes) VALUES (to_char(NEW.burst_started_at, '
     "'YYYY-MM-DD'), 1) ON CONFLICT (day) DO UPDATE SET changes = "
     'response_dirty_days.changes + 1; END IF; RETURN NULL; END $$ LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION response_rollup_mark_contact() RETURNS trigger AS $$ '
     'BEGIN INSERT INTO response_dirty_days (day, changes) SELECT DISTINCT '
     "to_char(r.burst_started_at, 'YYYY-MM-DD'), 1 FROM response_times r JOIN "
     'conversations c ON c.id = r.conversation_id WHERE c.contact_id = NEW.id ON CONFLICT '
     '(day) DO UPDATE SET changes = response_dirty_days.changes + 1; RETURN NULL; END $$ '
     'LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION response_rollup_mark_conversation() RETURNS trigger AS $$ '
     'BEGIN INSERT INTO response_dirty_days (day, changes) SELECT DISTINCT '
     "to_char(r.burst_started_at, 'YYYY-MM-DD'), 1 FROM response_times r WHERE "
     'r.conversation_id = NEW.id ON CONFLICT (day) DO UPDATE SET changes = '
     'response_dirty_days.changes + 1; RETURN NULL; END $$ LANGUAGE plpgsql'),
    'DROP TRIGGER IF EXISTS response_rollup ON response_times',
    ('CREATE TRIGGER response_rollup AFTER INSERT OR DELETE OR UPDATE OF burst_started_at, '
     'answered_at, response_seconds, responder_id, conversation_id ON response_times FOR '
     'EACH ROW EXECUTE FUNCTION response_rollup_mark()'),
    'DROP TRIGGER IF EXISTS response_rollup_contacts ON contacts',
    ('CREATE TRIGGER response_rollup_contacts AFTER UPDATE OF owner_id ON contacts FOR '
     'EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION '
     'response_rollup_mark_contact()'),
    'DROP TRIGGER IF EXISTS response_rollup_conversations ON conversations',
    ('CREATE TRIGGER response_rollup_conversations AFTER UPDATE OF contact_id, platform ON '
     'conversations FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR '
     'OLD.platform IS DISTINCT FROM NEW.platform) EXECUTE FUNCTION '
     'response_rollup_mark_conversation()'),
]
DIRTY_DAYS_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS response_rollup ON response_times',
    'DROP TRIGGER IF EXISTS response_rollup_contacts ON contacts',
    'DROP TRIGGER IF EXISTS response_rollup_conversations ON conversations',
    'DROP FUNCTION IF EXISTS response_rollup_mark()',
    'DROP FUNCTION IF EXISTS response_rollup_mark_contact()',
    'DROP FUNCTION IF EXISTS response_rollup_mark_conversation()',
]


def _execute(sqlite: list[str], postgresql: list[str]) -> None:
    """Run the statements written for the database being migrated."""
    bind = op.get_bind()
    for sql in {'sqlite': sqlite, 'postgresql': postgresql}.get(bind.dialect.name, []):
        bind.exec_driver_sql(sql)

# (table, old index, its columns, new index, its columns); old None: only added.
CHANGES = [
    ('conversations', 'ix_conversations_awaiting', ['state', 'last_outbound_at'],
     'ix_conversations_outbound', ['state', 'last_outbound_at', 'contact_id']),
    ('stage_changes', 'ix_stage_changes_deal_at', ['deal_id', 'at'],
     'ix_stage_changes_deal_to', ['deal_id', 'at', 'to_stage_id']),
    ('stage_changes', None, None,
     'ix_stage_changes_from_at', ['from_stage_id', 'at', 'deal_id', 'seconds_in_from_stage']),
    ('tasks', 'ix_tasks_auto_created', ['auto', 'created_at'],
     'ix_tasks_auto_followups', ['auto', 'created_at', 'source_message_id', 'assignee_id']),
    ('tasks', 'ix_tasks_status_due', ['status', 'due_at'],
     'ix_tasks_status_due_assignee', ['status', 'due_at', 'assignee_id']),
]


def upgrade():
    for table, old, _, new, columns in CHANGES:
        op.create_index(new, table, columns, unique=False)
        if old:
            op.drop_index(old, table_name=table)
    op.create_table('response_day_counts',
    sa.Column('owner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('responder_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('bursts', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('owner_id', 'platform', 'day', 'responder_id', 'bucket', name=op.f('pk_response_day_counts'))
    )
    op.create_index('ix_response_day_counts_day', 'response_day_counts', ['day'], unique=False)
    op.create_table('response_dirty_days',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_response_dirty_days'))
    )
    _execute(DIRTY_DAYS_SQLITE_CREATE, DIRTY_DAYS_POSTGRESQL_CREATE)
    # Every day that has response times starts dirty: the first dashboard load counts them.
    if op.get_bind().dialect.name == 'sqlite':
        day = 'substr(burst_started_at, 1, 10)'
    else:
        day = "to_char(burst_started_at, 'YYYY-MM-DD')"
    op.execute(f'INSERT INTO response_dirty_days (day, changes) '
               f'SELECT DISTINCT {day}, 1 FROM response_times')


def downgrade():
    _execute(DIRTY_DAYS_SQLITE_DROP, DIRTY_DAYS_POSTGRESQL_DROP)
    op.drop_index('ix_response_day_counts_day', table_name='response_day_counts')
    op.drop_table('response_dirty_days')
    op.drop_table('response_day_counts')
    for table, old, old_columns, new, _ in reversed(CHANGES):
        if old:
            op.create_index(old, table, old_columns, unique=False)
        op.drop_index(new, table_name=table)
