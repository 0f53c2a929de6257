"""dashboard scope indexes

A rep's dashboard lists the rep's contacts (archived ones too) from ix_contacts_owner instead
of scanning the contacts table in each statement; "unknown consent in outreach" reads the
contactable live contacts with unknown consent from ix_contacts_consent_outreach alone; the
waiting counts check the conversation's contact from the (state, waiting_since) index; the
median and p90 of first responses read one range of ix_response_times_seconds per bucket of
values they need instead of every response time of the range, and the per-day counts come
from ix_response_day_counts_read alone; the opt-outs of a range from
ix_consent_events_opt_outs (which replaces ix_consent_events_at).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 18:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# (table, old index, its columns, new index, its columns); old None: only added.
CHANGES = [
    ('conversations', 'ix_conversations_state_waiting', ['state', 'waiting_since'],
     'ix_conversations_waiting', ['state', 'waiting_since', 'contact_id']),
    ('response_times', None, None,
     'ix_response_times_seconds', ['response_seconds', 'burst_started_at', 'responder_id',
                                   'conversation_id']),
    ('consent_events', 'ix_consent_events_at', ['at'],
     'ix_consent_events_opt_outs', ['at', 'to_status', 'from_status', 'to_dnc', 'from_dnc',
                                    'evidence_message_id', 'source', 'contact_id']),
    ('response_day_counts', None, None,
     'ix_response_day_counts_read', ['owner_id', 'platform', 'day', 'responder_id', 'bucket',
                                     'bursts', 'answered']),
]


# Both partial, so that the contacts list keeps reading its name index in order: led by
# archived_at, SQLite (without statistics) took the consent index for the list's
# "archived_at IS NULL", and a plain owner index for both halves of a rep's "owner is me or
# no owner", and sorted every contact it found by name.
LIVE = {"sqlite_where": sa.text("archived_at IS NULL"),
        "postgresql_where": sa.text("archived_at IS NULL")}
OWNED = {"sqlite_where": sa.text("owner_id IS NOT NULL"),
         "postgresql_where": sa.text("owner_id IS NOT NULL")}


def upgrade():
    for table, old, _, new, columns in CHANGES:
        op.create_index(new, table, columns, unique=False)
        if old:
            op.drop_index(old, table_name=table)
    op.create_index('ix_contacts_owner', 'contacts', ['owner_id'], unique=False, **OWNED)
    op.create_index('ix_contacts_consent_outreach', 'contacts',
                    ['consent_status', 'do_not_contact', 'owner_id'], unique=False, **LIVE)


def downgrade():
    op.drop_index('ix_contacts_consent_outreach', table_name='contacts', **LIVE)
    op.drop_index('ix_contacts_owner', table_name='contacts', **OWNED)
    for table, old, old_columns, new, _ in reversed(CHANGES):
        if old:
            op.create_index(old, table, old_columns, unique=False)
        op.drop_index(new, table_name=table)
