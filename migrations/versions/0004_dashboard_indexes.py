"""dashboard covering indexes

The manager dashboard's stage-history funnel and time in stage, the automatic follow-ups,
overdue tasks per person and the "unknown consent in outreach" count read these indexes
alone instead of visiting table rows. Each replaces a narrower index with the same leading
columns, so writes keep the same number of index updates (stage changes gain one).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 16:50:00.000000

"""
from alembic import op


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


def downgrade():
    for table, old, old_columns, new, _ in reversed(CHANGES):
        if old:
            op.create_index(old, table, old_columns, unique=False)
        op.drop_index(new, table_name=table)
