"""message indexes: the unused fingerprint and external id indexes go, template and author
indexes hold only messages that have one

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 18:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def _not_null(column):
    return {"sqlite_where": sa.text(f"{column} IS NOT NULL"),
            "postgresql_where": sa.text(f"{column} IS NOT NULL")}


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_fingerprint')
        batch_op.drop_index('ix_messages_external')
        batch_op.drop_index('ix_messages_template')
        batch_op.drop_index('ix_messages_conversation_template')
        batch_op.drop_index('ix_messages_author_sent')
        batch_op.create_index('ix_messages_template', ['template_id', 'sent_at', 'replied_at'],
                              unique=False, **_not_null('template_id'))
        batch_op.create_index('ix_messages_conversation_template',
                              ['conversation_id', 'template_id'], unique=False,
                              **_not_null('template_id'))
        batch_op.create_index('ix_messages_author_sent', ['author_id', 'sent_at'], unique=False,
                              **_not_null('author_id'))


def downgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_author_sent', **_not_null('author_id'))
        batch_op.drop_index('ix_messages_conversation_template', **_not_null('template_id'))
        batch_op.drop_index('ix_messages_template', **_not_null('template_id'))
        batch_op.create_index('ix_messages_author_sent', ['author_id', 'sent_at'], unique=False)
        batch_op.create_index('ix_messages_template', ['template_id', 'sent_at', 'replied_at'],
                              unique=False)
        batch_op.create_index('ix_messages_conversation_template',
                              ['conversation_id', 'template_id'], unique=False)
        batch_op.create_index('ix_messages_external', ['conversation_id', 'external_id'],
                              unique=False)
        batch_op.create_index('ix_messages_fingerprint', ['fingerprint'], unique=False)
