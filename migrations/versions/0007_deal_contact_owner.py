"""deals keep their contact's owner

deals.contact_owner_id is a copy of the deal's contact's owner, kept by triggers
(crm.pipeline.contact_owner) on both databases, so that a rep's deal scope ("deals I own, or
on a contact that is mine or unassigned") is two column tests on the deal: the board's
column totals read ix_deals_board_totals alone instead of looking up every deal's contact.
The index now carries contact_owner_id where it carried contact_id, and archived_at (NULL in
every entry of this partial index): without it SQLite read each deal's row to check the
WHERE clause, so the "covering" index never was one (17.7 → 1.6 ms for a rep's totals of one
pipeline at 20,000 deals, 2.7 → 2.1 ms for a manager's).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 21:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

from crm.pipeline import contact_owner


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

LIVE = {"sqlite_where": sa.text("archived_at IS NULL"),
        "postgresql_where": sa.text("archived_at IS NULL")}
BEFORE = ['pipeline_id', 'stage_id', 'currency', 'value_minor', 'owner_id', 'contact_id']
AFTER = ['pipeline_id', 'stage_id', 'currency', 'value_minor', 'owner_id', 'contact_owner_id',
         'archived_at']


def upgrade():
    # A plain ADD COLUMN (no batch rebuild), so the triggers already on deals and contacts stay.
    op.add_column('deals', sa.Column('contact_owner_id', sa.Integer(), nullable=True))
    op.execute(contact_owner.BACKFILL)
    contact_owner.install(op.get_bind())
    op.drop_index('ix_deals_board_totals', table_name='deals', **LIVE)
    op.create_index('ix_deals_board_totals', 'deals', AFTER, unique=False, **LIVE)


def downgrade():
    op.drop_index('ix_deals_board_totals', table_name='deals', **LIVE)
    op.create_index('ix_deals_board_totals', 'deals', BEFORE, unique=False, **LIVE)
    contact_owner.uninstall(op.get_bind())
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_column('contact_owner_id')
