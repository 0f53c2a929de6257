"""contacts keep their phone's last nine digits, indexed, for matching WhatsApp numbers

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-07 07:00:00.000000

"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None

contacts = sa.table('contacts', sa.column('id', sa.Integer), sa.column('phone', sa.String),
                    sa.column('phone_tail', sa.String))


def _tail(phone):
    digits = re.sub(r'\D', '', phone or '')
    return digits[-9:] if len(digits) >= 9 else None


def upgrade():
    # Plain ALTER TABLE on both databases (SQLite adds and drops a column in place; a batch
    # would copy the table, which other tables' foreign keys point at).
    op.add_column('contacts', sa.Column('phone_tail', sa.String(length=9), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.select(contacts.c.id, contacts.c.phone)
                        .where(contacts.c.phone.is_not(None))).all()
    tails = [{'b_id': id_, 'b_tail': _tail(phone)} for id_, phone in rows if _tail(phone)]
    if tails:
        conn.execute(contacts.update().where(contacts.c.id == sa.bindparam('b_id'))
                     .values(phone_tail=sa.bindparam('b_tail')), tails)
    op.create_index('ix_contacts_phone_tail', 'contacts', ['phone_tail'])


def downgrade():
    op.drop_index('ix_contacts_phone_tail', table_name='contacts')
    op.drop_column('contacts', 'phone_tail')
