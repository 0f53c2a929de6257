"""campaigns and import runs carry an optimistic version, like deals and contacts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 11:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

TABLES = ('campaigns', 'import_runs')


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column('version', sa.Integer(), nullable=False,
                                       server_default='1'))


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('version')
