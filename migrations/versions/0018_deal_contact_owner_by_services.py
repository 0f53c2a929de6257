"""deals' contact owner written by the services instead of triggers

deals.contact_owner_id stays; the deal and contact services write it (crm.pipeline.
contact_owner) in the transaction that opens a deal or reassigns its contact, so the
triggers of 0007 go. Downgrading puts them back and recounts every deal's copy.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 13:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

# 0007's triggers, copied here (frozen history).
CONTACT_OWNER_SQLITE_CREATE = [
    ('CREATE TRIGGER IF NOT EXISTS deals_contact_owner_ai AFTER INSERT ON deals WHEN '
     'new.contact_owner_id IS NOT (SELECT owner_id FROM contacts WHERE id = '
     'new.contact_id) BEGIN UPDATE deals SET contact_owner_id = (SELECT owner_id FROM '
     'contacts WHERE id = new.contact_id) WHERE id = new.id; END'),
    ('CREATE TRIGGER IF NOT EXISTS deals_contact_owner_au AFTER UPDATE OF contact_id, '
     'contact_owner_id ON deals WHEN new.contact_owner_id IS NOT (SELECT owner_id FROM '
     'contacts WHERE id = new.contact_id) BEGIN UPDATE deals SET contact_owner_id = '
     '(SELECT owner_id FROM contacts WHERE id = new.contact_id) WHERE id = new.id; END'),
    ('CREATE TRIGGER IF NOT EXISTS deals_contact_owner_contacts_au AFTER UPDATE OF '
     'owner_id ON contacts WHEN old.owner_id IS NOT new.owner_id BEGIN UPDATE deals SET '
     'contact_owner_id = new.owner_id WHERE contact_id = new.id; END'),
]
CONTACT_OWNER_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS deals_contact_owner_ai',
    'DROP TRIGGER IF EXISTS deals_contact_owner_au',
    'DROP TRIGGER IF EXISTS deals_contact_owner_contacts_au',
]
CONTACT_OWNER_POSTGRESQL_CREATE = [
    ('CREATE OR REPLACE FUNCTION deals_contact_owner_set() RETURNS trigger AS $$ BEGIN '
     'SELECT owner_id INTO NEW.contact_owner_id FROM contacts WHERE id = NEW.contact_id '
     'FOR SHARE; RETURN NEW; END $$ LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION deals_contact_owner_follow() RETURNS trigger AS $$ BEGIN '
     'UPDATE deals SET contact_owner_id = NEW.owner_id WHERE contact_id = NEW.id AND '
     'contact_owner_id IS DISTINCT FROM NEW.owner_id; RETURN NULL; END $$ LANGUAGE plpgsql'),
    'DROP TRIGGER IF EXISTS deals_contact_owner ON deals',
    ('CREATE TRIGGER deals_contact_owner BEFORE INSERT OR UPDATE OF contact_id, '
     'contact_owner_id ON deals FOR EACH ROW EXECUTE FUNCTION deals_contact_owner_set()'),
    'DROP TRIGGER IF EXISTS deals_contact_owner_contacts ON contacts',
    ('CREATE TRIGGER deals_contact_owner_contacts AFTER UPDATE OF owner_id ON contacts FOR '
     'EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION '
     'deals_contact_owner_follow()'),
]
CONTACT_OWNER_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS deals_contact_owner ON deals',
    'DROP TRIGGER IF EXISTS deals_contact_owner_contacts ON contacts',
    'DROP FUNCTION IF EXISTS deals_contact_owner_set()',
    'DROP FUNCTION IF EXISTS deals_contact_owner_follow()',
]

BACKFILL = ('UPDATE deals SET contact_owner_id = '
            '(SELECT owner_id FROM contacts WHERE contacts.id = deals.contact_id)')


def _execute(sqlite: list[str], postgresql: list[str]) -> None:
    """Run the statements written for the database being migrated."""
    bind = op.get_bind()
    for sql in {'sqlite': sqlite, 'postgresql': postgresql}.get(bind.dialect.name, []):
        bind.exec_driver_sql(sql)


def upgrade():
    _execute(CONTACT_OWNER_SQLITE_DROP, CONTACT_OWNER_POSTGRESQL_DROP)


def downgrade():
    op.execute(BACKFILL)
    _execute(CONTACT_OWNER_SQLITE_CREATE, CONTACT_OWNER_POSTGRESQL_CREATE)
