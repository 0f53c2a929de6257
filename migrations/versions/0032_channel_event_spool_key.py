"""channel events remember their key in the SQLite spool, so a moved event is stored once

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('channel_events') as batch_op:
        batch_op.add_column(sa.Column('spool_key', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint('uq_channel_events_spool_key', ['spool_key'])


def downgrade():
    with op.batch_alter_table('channel_events') as batch_op:
        batch_op.drop_constraint('uq_channel_events_spool_key', type_='unique')
        batch_op.drop_column('spool_key')
