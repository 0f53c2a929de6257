"""audit events: the contact each is about (contact_id); tasks: a contact's automatic
follow-ups by creation time — both for the contact's timeline

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 14:15:00.000000

Existing events get theirs from the record they name: a contact itself, or the task, deal,
note, conversation or message of a contact (but not a DM's or a note's "create": the message
or note itself is on the timeline). No foreign key, like entity_id: the log outlives
what it describes.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# entity_type -> how its contact is found from entity_id
_CONTACT_OF = {
    'task': "SELECT contact_id FROM tasks WHERE tasks.id = audit_events.entity_id",
    'deal': "SELECT contact_id FROM deals WHERE deals.id = audit_events.entity_id",
    'note': "SELECT contact_id FROM notes WHERE notes.id = audit_events.entity_id",
    'conversation': "SELECT contact_id FROM conversations "
                    "WHERE conversations.id = audit_events.entity_id",
    'message': "SELECT conversations.contact_id FROM messages JOIN conversations "
               "ON conversations.id = messages.conversation_id "
               "WHERE messages.id = audit_events.entity_id",
}


def upgrade():
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.Integer(), nullable=True))
    op.execute("UPDATE audit_events SET contact_id = entity_id WHERE entity_type = 'contact'")
    for entity_type, lookup in _CONTACT_OF.items():
        op.execute(f"UPDATE audit_events SET contact_id = ({lookup}) "
                   f"WHERE entity_type = '{entity_type}'")
    # A DM logged by hand and a note are on the timeline as themselves: their "create"
    # events are not.
    op.execute("UPDATE audit_events SET contact_id = NULL "
               "WHERE entity_type IN ('message', 'note') AND action = 'create'")
    op.create_index('ix_audit_contact_at', 'audit_events', ['contact_id', 'at', 'id'])
    op.create_index('ix_tasks_contact_auto', 'tasks', ['contact_id', 'auto', 'created_at', 'id'])


def downgrade():
    op.drop_index('ix_tasks_contact_auto', table_name='tasks')
    op.drop_index('ix_audit_contact_at', table_name='audit_events')
    with op.batch_alter_table('audit_events') as batch_op:
        batch_op.drop_column('contact_id')
