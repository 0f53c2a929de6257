"""messages: a platform message is held once per conversation (unique external id and
fingerprint), and outbound messages keep their delivery status

Messages stored twice before this (same conversation and platform id, or same fingerprint)
are kept; only the lowest id keeps the id or fingerprint, so nothing is lost and the unique
indexes can be built.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 10:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def _not_null(column):
    return {"sqlite_where": sa.text(f"{column} IS NOT NULL"),
            "postgresql_where": sa.text(f"{column} IS NOT NULL")}


def _forget_repeats(column):
    op.execute(f"UPDATE messages SET {column} = NULL WHERE {column} IS NOT NULL AND id NOT IN "
               f"(SELECT MIN(id) FROM messages WHERE {column} IS NOT NULL "
               f"GROUP BY conversation_id, {column})")


def upgrade():
    _forget_repeats('external_id')
    _forget_repeats('fingerprint')
    op.add_column('messages', sa.Column('delivery_status', sa.String(length=16), nullable=True))
    op.add_column('messages', sa.Column('delivery_error', sa.String(length=300), nullable=True))
    op.create_index('uq_messages_external', 'messages', ['conversation_id', 'external_id'],
                    unique=True, **_not_null('external_id'))
    op.create_index('uq_messages_fingerprint', 'messages', ['conversation_id', 'fingerprint'],
                    unique=True, **_not_null('fingerprint'))


def downgrade():
    op.drop_index('uq_messages_fingerprint', table_name='messages')
    op.drop_index('uq_messages_external', table_name='messages')
    # Plain ALTER TABLE (SQLite 3.35+ too): copying the table would trip the triggers on it.
    op.execute("ALTER TABLE messages DROP COLUMN delivery_error")
    op.execute("ALTER TABLE messages DROP COLUMN delivery_status")
