"""conversations keep their contact's owner, for one owner's dashboard figures

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-07 22:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None

conversations = sa.table('conversations', sa.column('contact_id', sa.Integer),
                         sa.column('contact_owner_id', sa.Integer))
contacts = sa.table('contacts', sa.column('id', sa.Integer), sa.column('owner_id', sa.Integer))


def upgrade():
    # Plain ALTER TABLE on both databases (a batch would copy the table on SQLite).
    op.add_column('conversations', sa.Column('contact_owner_id', sa.Integer(), nullable=True))
    op.execute(conversations.update().values(contact_owner_id=(
        sa.select(contacts.c.owner_id).where(contacts.c.id == conversations.c.contact_id)
        .scalar_subquery())))
    op.create_index('ix_conversations_owner_waiting', 'conversations',
                    ['contact_owner_id', 'state', 'waiting_since'])


def downgrade():
    op.drop_index('ix_conversations_owner_waiting', table_name='conversations')
    op.drop_column('conversations', 'contact_owner_id')
