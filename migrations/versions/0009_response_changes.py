"""response times' changes logged for the dashboard's first-response counts

Triggers used to mark the UTC day of every changed response time dirty, and the next
dashboard load counted that whole day again (thousands of response times for one DM).
They now log each change as counts to add (response_changes, crm.reports.response_triggers):
the dashboard adds a few rows instead. Days still marked dirty when this runs are counted
again into the log, so nothing marked is lost.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from crm.reports import response_triggers


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('response_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('responder_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('bursts', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_changes'))
    )
    bind = op.get_bind()
    response_triggers.DIRTY_DAYS.uninstall(bind)
    response_triggers.install(bind)
    # The dirty days' rows go, and their response times are logged to be added again.
    day = response_triggers.day(bind.dialect.name, 'r.burst_started_at')
    op.execute('DELETE FROM response_day_counts '
               'WHERE day IN (SELECT day FROM response_dirty_days)')
    op.execute(response_triggers.count_into_changes(
        bind.dialect.name, f'{day} IN (SELECT day FROM response_dirty_days)'))
    op.drop_table('response_dirty_days')


def downgrade():
    op.create_table('response_dirty_days',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_response_dirty_days'))
    )
    bind = op.get_bind()
    response_triggers.uninstall(bind)
    response_triggers.DIRTY_DAYS.install(bind)
    # Days with changes not yet added are counted again by the older code.
    op.execute('INSERT INTO response_dirty_days (day, changes) '
               'SELECT DISTINCT day, 1 FROM response_changes')
    op.drop_table('response_changes')
