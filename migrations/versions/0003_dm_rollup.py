"""dm rollup

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

from crm.reports import rollup_triggers


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dm_day_counts',
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tz', 'owner_id', 'day', 'platform', 'kind', 'key_id', name=op.f('pk_dm_day_counts'))
    )
    with op.batch_alter_table('dm_day_counts', schema=None) as batch_op:
        batch_op.create_index('ix_dm_day_counts_tz_day', ['tz', 'day'], unique=False)

    op.create_table('dm_days_built',
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('tz', 'day', name=op.f('pk_dm_days_built'))
    )
    op.create_table('dm_dirty_hours',
    sa.Column('hour', sa.String(length=13), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', name=op.f('pk_dm_dirty_hours'))
    )
    op.create_table('dm_hour_counts',
    sa.Column('hour', sa.String(length=13), nullable=False),
    sa.Column('owner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('author_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('template_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'owner_id', 'platform', 'direction', 'author_id', 'template_id', name=op.f('pk_dm_hour_counts'))
    )
    rollup_triggers.install(op.get_bind())
    # Every hour that has messages starts dirty: the first dashboard load counts them.
    if op.get_bind().dialect.name == 'sqlite':
        hour = 'substr(sent_at, 1, 13)'
    else:
        hour = "to_char(sent_at, 'YYYY-MM-DD HH24')"
    op.execute(f'INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT {hour}, 1 FROM messages')


def downgrade():
    rollup_triggers.uninstall(op.get_bind())
    op.drop_table('dm_hour_counts')
    op.drop_table('dm_dirty_hours')
    op.drop_table('dm_days_built')
    with op.batch_alter_table('dm_day_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_dm_day_counts_tz_day')

    op.drop_table('dm_day_counts')
