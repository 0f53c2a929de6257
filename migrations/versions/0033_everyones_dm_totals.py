"""everyone's DM totals: per hour, platform and direction; DMs sent per day

Everyone's dashboard summed every dm_hour_counts row of its range (one per owner, author and
template of each hour, about 130,000 for 30 days at 1,000,000 messages). Two narrower
tables, kept by the same service in the same transaction (crm.contacts.dm_counts), hold
what it reads: dm_hour_totals (per hour, platform and direction) for the trend, and
sent_day_totals (DMs sent per UTC day, platform, author and template) for the DMs per rep,
platform and template. Both are counted here from dm_hour_counts.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dm_hour_totals',
    sa.Column('hour', sa.String(length=13), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'platform', 'direction', name=op.f('pk_dm_hour_totals')),
    sqlite_with_rowid=False
    )
    op.create_table('sent_day_totals',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('template_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'platform', 'author_id', 'template_id', name=op.f('pk_sent_day_totals')),
    sqlite_with_rowid=False
    )
    op.execute(
        'INSERT INTO dm_hour_totals (hour, platform, direction, messages, replied) '
        'SELECT hour, platform, direction, sum(messages), sum(replied) FROM dm_hour_counts '
        'GROUP BY hour, platform, direction')
    op.execute(
        'INSERT INTO sent_day_totals (day, platform, author_id, template_id, messages, replied) '
        'SELECT substr(hour, 1, 10), platform, author_id, template_id, sum(messages), '
        "sum(replied) FROM dm_hour_counts WHERE direction = 'out' "
        'GROUP BY substr(hour, 1, 10), platform, author_id, template_id')


def downgrade():
    op.drop_table('sent_day_totals')
    op.drop_table('dm_hour_totals')
