"""bulk actions: what each did and what its rows were before (undo); snoozed conversations

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 13:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bulk_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('entity_type', sa.String(length=32), nullable=False),
        sa.Column('summary', sa.String(length=500), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('undo_until', sa.DateTime(), nullable=False),
        sa.Column('undone_at', sa.DateTime(), nullable=True),
        sa.Column('undo_summary', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bulk_changes_user_at', 'bulk_changes', ['user_id', 'created_at'])
    op.create_table(
        'bulk_change_rows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('change_id', sa.Integer(), nullable=False),
        sa.Column('entity_id', sa.Integer(), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['change_id'], ['bulk_changes.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_bulk_change_rows_change', 'bulk_change_rows', ['change_id'])
    # A plain ADD COLUMN (no batch copy): the conversations table keeps its triggers.
    op.add_column('conversations', sa.Column('snoozed_until', sa.DateTime(), nullable=True))
    op.create_index('ix_conversations_snoozed', 'conversations', ['snoozed_until'],
                    sqlite_where=sa.text('snoozed_until IS NOT NULL'),
                    postgresql_where=sa.text('snoozed_until IS NOT NULL'))


def downgrade():
    op.drop_index('ix_conversations_snoozed', table_name='conversations')
    op.drop_column('conversations', 'snoozed_until')
    op.drop_index('ix_bulk_change_rows_change', table_name='bulk_change_rows')
    op.drop_table('bulk_change_rows')
    op.drop_index('ix_bulk_changes_user_at', table_name='bulk_changes')
    op.drop_table('bulk_changes')
