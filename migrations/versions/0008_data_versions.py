"""data versions for the reports cache, each contact's last outbound DM

data_versions counts the changes to each table the dashboard reads, bumped by triggers in
the same transaction (crm.reports.version_triggers); the reports cache keys each figure on
the versions of the tables it reads, so a change recomputes only the figures it can move.
contacts.last_outbound_at keeps the latest last outbound DM of the contact's conversations
(triggers on conversations, crm.reports.outreach_triggers), counted here once for every
contact; "unknown consent in outreach" reads one range of ix_contacts_unknown_outreach.
tasks.source_replied_at keeps when an automatic follow-up's DM was answered (triggers,
crm.reports.followup_triggers); ix_tasks_auto_replied, covering the follow-ups figure with
it, replaces ix_tasks_auto_followups.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

from crm.reports import followup_triggers, outreach_triggers, version_triggers


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('data_versions',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    version_triggers.install(op.get_bind())
    op.add_column('contacts', sa.Column('last_outbound_at', sa.DateTime(), nullable=True))
    op.execute(outreach_triggers.RECOUNT_ALL)
    op.create_index('ix_contacts_unknown_outreach', 'contacts', ['last_outbound_at', 'owner_id'],
                    unique=False,
                    sqlite_where=sa.text("archived_at IS NULL AND consent_status = 'unknown' "
                                         "AND do_not_contact = 0"),
                    postgresql_where=sa.text("archived_at IS NULL AND consent_status = 'unknown' "
                                             "AND do_not_contact = false"))
    outreach_triggers.install(op.get_bind())
    op.add_column('tasks', sa.Column('source_replied_at', sa.DateTime(), nullable=True))
    op.execute(followup_triggers.RECOUNT_ALL)
    op.drop_index('ix_tasks_auto_followups', table_name='tasks')
    op.create_index('ix_tasks_auto_replied', 'tasks',
                    ['auto', 'created_at', 'assignee_id', 'source_replied_at'], unique=False)
    followup_triggers.install(op.get_bind())


def downgrade():
    followup_triggers.uninstall(op.get_bind())
    op.drop_index('ix_tasks_auto_replied', table_name='tasks')
    op.create_index('ix_tasks_auto_followups', 'tasks',
                    ['auto', 'created_at', 'source_message_id', 'assignee_id'], unique=False)
    op.drop_column('tasks', 'source_replied_at')
    outreach_triggers.uninstall(op.get_bind())
    op.drop_index('ix_contacts_unknown_outreach', table_name='contacts')
    # A plain ALTER TABLE on SQLite too (3.35+): a batch copy would drop the table's triggers.
    op.drop_column('contacts', 'last_outbound_at')
    version_triggers.uninstall(op.get_bind())
    op.drop_table('data_versions')
