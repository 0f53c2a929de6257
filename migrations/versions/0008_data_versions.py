"""data versions for the reports cache

data_versions counts the changes to each table the dashboard reads, bumped by triggers in
the same transaction (crm.reports.version_triggers); the reports cache keys each figure on
the versions of the tables it reads, so a change recomputes only the figures it can move.

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-22 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

from crm.reports import version_triggers


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_versions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    version_triggers.install(op.get_bind())


def downgrade():
    version_triggers.uninstall(op.get_bind())
    op.drop_table('data_versions')
