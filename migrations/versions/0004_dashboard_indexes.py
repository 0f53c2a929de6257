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

from crm.reports import response_triggers


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

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
    response_triggers.DIRTY_DAYS.install(op.get_bind())
    # Every day that has response times starts dirty: the first dashboard load counts them.
    if op.get_bind().dialect.name == 'sqlite':
        day = 'substr(burst_started_at, 1, 10)'
    else:
        day = "to_char(burst_started_at, 'YYYY-MM-DD')"
    op.execute(f'INSERT INTO response_dirty_days (day, changes) '
               f'SELECT DISTINCT {day}, 1 FROM response_times')


def downgrade():
    response_triggers.DIRTY_DAYS.uninstall(op.get_bind())
    op.drop_index('ix_response_day_counts_day', table_name='response_day_counts')
    op.drop_table('response_dirty_days')
    op.drop_table('response_day_counts')
    for table, old, old_columns, new, _ in reversed(CHANGES):
        if old:
            op.create_index(old, table, old_columns, unique=False)
        op.drop_index(new, table_name=table)
