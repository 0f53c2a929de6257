"""messages: deleted_at, when the platform reported the message deleted (unsent); the row
stays, its text is erased

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('messages', sa.Column('deleted_at', sa.DateTime(), nullable=True))


def downgrade():
    # Plain ALTER TABLE (SQLite 3.35+ too): copying the table would trip the triggers on it.
    op.execute("ALTER TABLE messages DROP COLUMN deleted_at")
