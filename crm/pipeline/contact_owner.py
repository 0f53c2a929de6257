"""Database triggers that keep each deal's copy of its contact's owner
(`deals.contact_owner_id`), so that a rep's deal scope tests two columns of the deal instead
of looking up every deal's contact: a deal written or moved to another contact, a contact
reassigned or claimed — by the app, a bulk UPDATE or an import alike. The same statements
run from migration 0007 and when tests or the benchmark create tables directly.

A SQLite table rebuilt by a migration (`batch_alter_table` on deals or contacts) loses its
triggers: such a migration must install these again.
"""
from crm.core.ddl import DialectDDL

_OWNER = "(SELECT owner_id FROM contacts WHERE id = new.contact_id)"


def _sqlite_follow(name: str, event: str) -> str:
    # An AFTER trigger: SQLite's BEFORE triggers cannot change the row being written.
    return (f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON deals "
            f"WHEN new.contact_owner_id IS NOT {_OWNER} BEGIN "
            f"UPDATE deals SET contact_owner_id = {_OWNER} WHERE id = new.id; END")


SQLITE_CREATE = [
    _sqlite_follow("deals_contact_owner_ai", "INSERT"),
    _sqlite_follow("deals_contact_owner_au", "UPDATE OF contact_id, contact_owner_id"),
    "CREATE TRIGGER IF NOT EXISTS deals_contact_owner_contacts_au AFTER UPDATE OF owner_id "
    "ON contacts WHEN old.owner_id IS NOT new.owner_id BEGIN "
    "UPDATE deals SET contact_owner_id = new.owner_id WHERE contact_id = new.id; END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS deals_contact_owner_{name}"
               for name in ("ai", "au", "contacts_au")]

POSTGRES_CREATE = [
    # FOR SHARE waits for a concurrent reassignment of the contact to commit and then reads
    # its new owner; a plain read would keep the old one on a deal the reassignment's own
    # UPDATE of deals did not see.
    "CREATE OR REPLACE FUNCTION deals_contact_owner_set() RETURNS trigger AS $$ BEGIN "
    "SELECT owner_id INTO NEW.contact_owner_id FROM contacts WHERE id = NEW.contact_id "
    "FOR SHARE; RETURN NEW; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION deals_contact_owner_follow() RETURNS trigger AS $$ BEGIN "
    "UPDATE deals SET contact_owner_id = NEW.owner_id WHERE contact_id = NEW.id "
    "AND contact_owner_id IS DISTINCT FROM NEW.owner_id; RETURN NULL; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS deals_contact_owner ON deals",
    "CREATE TRIGGER deals_contact_owner BEFORE INSERT OR UPDATE OF contact_id, "
    "contact_owner_id ON deals FOR EACH ROW EXECUTE FUNCTION deals_contact_owner_set()",
    "DROP TRIGGER IF EXISTS deals_contact_owner_contacts ON contacts",
    "CREATE TRIGGER deals_contact_owner_contacts AFTER UPDATE OF owner_id ON contacts "
    "FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) "
    "EXECUTE FUNCTION deals_contact_owner_follow()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS deals_contact_owner ON deals",
    "DROP TRIGGER IF EXISTS deals_contact_owner_contacts ON contacts",
    "DROP FUNCTION IF EXISTS deals_contact_owner_set()",
    "DROP FUNCTION IF EXISTS deals_contact_owner_follow()",
]

# Fills the column for deals that existed before it did (migration 0007).
BACKFILL = ("UPDATE deals SET contact_owner_id = "
            "(SELECT owner_id FROM contacts WHERE contacts.id = deals.contact_id)")

DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall
