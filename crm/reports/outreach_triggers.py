"""Database triggers that keep contacts.last_outbound_at: the latest of the contact's
conversations' last outbound DM, for "unknown consent in outreach" on the dashboard
(crm.reports.consent_figures), which then counts contacts from one index instead of looking
up the contact of every conversation DMed in the range.

Whatever writes the conversation — logging or deleting a DM, an import, the reply state
rebuilt, a merge moving conversations to another contact — the contact's time is recounted
from its conversations (a handful of rows) in the same transaction. Only a change of the
conversation's last outbound time or contact fires it. The same statements run from
migration 0008 and when tests create tables directly.
"""
from crm.core.ddl import DialectDDL

RECOUNT = ("UPDATE contacts SET last_outbound_at = (SELECT max(c.last_outbound_at) "
           "FROM conversations c WHERE c.contact_id = {id}) WHERE id = {id}")
# Every contact at once: the backfill, and the benchmark generator after its load.
RECOUNT_ALL = ("UPDATE contacts SET last_outbound_at = (SELECT max(c.last_outbound_at) "
               "FROM conversations c WHERE c.contact_id = contacts.id)")

SQLITE_CREATE = [
    "CREATE TRIGGER IF NOT EXISTS contact_last_outbound_ai AFTER INSERT ON conversations "
    f"WHEN new.last_outbound_at IS NOT NULL BEGIN {RECOUNT.format(id='new.contact_id')}; END",
    "CREATE TRIGGER IF NOT EXISTS contact_last_outbound_au AFTER UPDATE OF last_outbound_at, "
    "contact_id ON conversations WHEN old.last_outbound_at IS NOT new.last_outbound_at "
    f"OR old.contact_id IS NOT new.contact_id BEGIN {RECOUNT.format(id='new.contact_id')}; "
    f"{RECOUNT.format(id='old.contact_id')} AND old.contact_id IS NOT new.contact_id; END",
    "CREATE TRIGGER IF NOT EXISTS contact_last_outbound_ad AFTER DELETE ON conversations "
    f"WHEN old.last_outbound_at IS NOT NULL BEGIN {RECOUNT.format(id='old.contact_id')}; END",
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS contact_last_outbound_{s}" for s in ("ai", "au", "ad")]

POSTGRES_CREATE = [
    "CREATE OR REPLACE FUNCTION contact_last_outbound_recount() RETURNS trigger AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' AND OLD.last_outbound_at IS NOT DISTINCT FROM NEW.last_outbound_at "
    "AND OLD.contact_id IS NOT DISTINCT FROM NEW.contact_id THEN RETURN NULL; END IF; "
    "IF TG_OP <> 'DELETE' AND (TG_OP = 'UPDATE' OR NEW.last_outbound_at IS NOT NULL) THEN "
    f"{RECOUNT.format(id='NEW.contact_id')}; END IF; "
    "IF TG_OP = 'DELETE' AND OLD.last_outbound_at IS NOT NULL OR TG_OP = 'UPDATE' "
    "AND OLD.contact_id IS DISTINCT FROM NEW.contact_id THEN "
    f"{RECOUNT.format(id='OLD.contact_id')}; END IF; "
    "RETURN NULL; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS contact_last_outbound ON conversations",
    "CREATE TRIGGER contact_last_outbound AFTER INSERT OR DELETE OR UPDATE OF last_outbound_at, "
    "contact_id ON conversations FOR EACH ROW EXECUTE FUNCTION contact_last_outbound_recount()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS contact_last_outbound ON conversations",
    "DROP FUNCTION IF EXISTS contact_last_outbound_recount()",
]


DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall
