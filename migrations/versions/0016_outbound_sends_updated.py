"""outbound sends: an index on updated_at for the DM poll's version

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 10:55:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_outbound_sends_updated', 'outbound_sends', ['updated_at'])


def downgrade():
    op.drop_index('ix_outbound_sends_updated', table_name='outbound_sends')
