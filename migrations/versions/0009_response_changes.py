"""response times' changes logged for the dashboard's first-response counts

Triggers used to mark the UTC day of every changed response time dirty, and the next
dashboard load counted that whole day again (thousands of response times for one DM).
They now log each change as counts to add (response_changes, crm.reports.response_triggers):
the dashboard adds a few rows instead. Days still marked dirty when this runs are counted
again into the log, so nothing marked is lost.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 01:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The statements below are this migration's own copy of what it installed when it was written
# (frozen history: later changes to the application's code change nothing here).
RESPONSE_SQLITE_CREATE = [
    ('CREATE TRIGGER IF NOT EXISTS response_changes_ai AFTER INSERT ON response_times '
     'BEGIN INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, '
     'bursts, answered) SELECT substr(new.burst_started_at, 1, 10), coalesce(k.owner_id, '
     '-2), c.platform, coalesce(new.responder_id, 0), CASE WHEN new.response_seconds IS '
     'NULL THEN -2 WHEN new.response_seconds <= 0 THEN 0 WHEN new.response_seconds <= 1800 '
     'THEN (new.response_seconds + 59) / 60 WHEN new.response_seconds <= 86400 THEN 30 + '
     '(new.response_seconds - 1800 + 899) / 900 WHEN new.response_seconds <= 604800 THEN '
     '124 + (new.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, 1, CASE WHEN '
     'new.answered_at IS NULL THEN 0 ELSE 1 END FROM conversations c JOIN contacts k ON '
     'k.id = c.contact_id WHERE c.id = new.conversation_id; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_changes_ad AFTER DELETE ON response_times '
     'BEGIN INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, '
     'bursts, answered) SELECT substr(old.burst_started_at, 1, 10), coalesce(k.owner_id, '
     '-2), c.platform, coalesce(old.responder_id, 0), CASE WHEN old.response_seconds IS '
     'NULL THEN -2 WHEN old.response_seconds <= 0 THEN 0 WHEN old.response_seconds <= 1800 '
     'THEN (old.response_seconds + 59) / 60 WHEN old.response_seconds <= 86400 THEN 30 + '
     '(old.response_seconds - 1800 + 899) / 900 WHEN old.response_seconds <= 604800 THEN '
     '124 + (old.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -1, CASE WHEN '
     'old.answered_at IS NULL THEN 0 ELSE -1 END FROM conversations c JOIN contacts k ON '
     'k.id = c.contact_id WHERE c.id = old.conversation_id; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_changes_au AFTER UPDATE OF burst_started_at, '
     'answered_at, response_seconds, responder_id, conversation_id ON response_times WHEN '
     'old.burst_started_at IS NOT new.burst_started_at OR old.answered_at IS NOT '
     'new.answered_at OR old.response_seconds IS NOT new.response_seconds OR '
     'old.responder_id IS NOT new.responder_id OR old.conversation_id IS NOT '
     'new.conversation_id BEGIN INSERT INTO response_changes (day, owner_id, platform, '
     'responder_id, bucket, bursts, answered) SELECT substr(old.burst_started_at, 1, 10), '
     'coalesce(k.owner_id, -2), c.platform, coalesce(old.responder_id, 0), CASE WHEN '
     'old.response_seconds IS NULL THEN -2 WHEN old.response_seconds <= 0 THEN 0 WHEN '
     'old.response_seconds <= 1800 THEN (old.response_seconds + 59) / 60 WHEN '
     'old.response_seconds <= 86400 THEN 30 + (old.response_seconds - 1800 + 899) / 900 '
     'WHEN old.response_seconds <= 604800 THEN 124 + (old.response_seconds - 86400 + 3599) '
     '/ 3600 ELSE 269 END, -1, CASE WHEN old.answered_at IS NULL THEN 0 ELSE -1 END FROM '
     'conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = '
     'old.conversation_id; INSERT INTO response_changes (day, owner_id, platform, '
     'responder_id, bucket, bursts, answered) SELECT substr(new.burst_started_at, 1, 10), '
     'coalesce(k.owner_id, -2), c.platform, coalesce(new.responder_id, 0), CASE WHEN '
     'new.response_seconds IS NULL THEN -2 WHEN new.response_seconds <= 0 THEN 0 WHEN '
     'new.response_seconds <= 1800 THEN (new.response_seconds + 59) / 60 WHEN '
     'new.response_seconds <= 86400 THEN 30 + (new.response_seconds - 1800 + 899) / 900 '
     'WHEN new.response_seconds <= 604800 THEN 124 + (new.response_seconds - 86400 + 3599) '
     '/ 3600 ELSE 269 END, 1, CASE WHEN new.answered_at IS NULL THEN 0 ELSE 1 END FROM '
     'conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = '
     'new.conversation_id; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_changes_contacts_au AFTER UPDATE OF owner_id '
     'ON contacts WHEN old.owner_id IS NOT new.owner_id BEGIN INSERT INTO response_changes '
     '(day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT '
     'substr(r.burst_started_at, 1, 10), coalesce(old.owner_id, -2), c.platform, '
     'coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN '
     'r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
     '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
     '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
     '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -count(*), '
     '-count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = '
     'r.conversation_id WHERE c.contact_id = new.id GROUP BY 1, 3, 4, 5; INSERT INTO '
     'response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) '
     'SELECT substr(r.burst_started_at, 1, 10), coalesce(new.owner_id, -2), c.platform, '
     'coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN '
     'r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
     '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
     '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
     '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), '
     'count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = '
     'r.conversation_id WHERE c.contact_id = new.id GROUP BY 1, 3, 4, 5; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_changes_conversations_au AFTER UPDATE OF '
     'contact_id, platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR '
     'old.platform IS NOT new.platform BEGIN INSERT INTO response_changes (day, owner_id, '
     'platform, responder_id, bucket, bursts, answered) SELECT substr(r.burst_started_at, '
     '1, 10), coalesce((SELECT owner_id FROM contacts WHERE id = old.contact_id), -2), '
     'old.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN '
     '-2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
     '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
     '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
     '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -count(*), '
     '-count(r.answered_at) FROM response_times r WHERE r.conversation_id = new.id GROUP '
     'BY 1, 3, 4, 5; INSERT INTO response_changes (day, owner_id, platform, responder_id, '
     'bucket, bursts, answered) SELECT substr(r.burst_started_at, 1, 10), coalesce((SELECT '
     'owner_id FROM contacts WHERE id = new.contact_id), -2), new.platform, '
     'coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN '
     'r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
     '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
     '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
     '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), '
     'count(r.answered_at) FROM response_times r WHERE r.conversation_id = new.id GROUP BY '
     '1, 3, 4, 5; END'),
]
RESPONSE_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS response_changes_ai',
    'DROP TRIGGER IF EXISTS response_changes_ad',
    'DROP TRIGGER IF EXISTS response_changes_au',
    'DROP TRIGGER IF EXISTS response_changes_contacts_au',
    'DROP TRIGGER IF EXISTS response_changes_conversations_au',
]
RESPONSE_POSTGRESQL_CREATE = [
    ('CREATE OR REPLACE FUNCTION response_changes_row() RETURNS trigger AS $$ DECLARE '
     "row_owner integer; row_platform varchar; BEGIN IF TG_OP = 'UPDATE' AND NOT "
     '(OLD.burst_started_at IS DISTINCT FROM NEW.burst_started_at OR OLD.answered_at IS '
     'DISTINCT FROM NEW.answered_at OR OLD.response_seconds IS DISTINCT FROM '
     'NEW.response_seconds OR OLD.responder_id IS DISTINCT FROM NEW.responder_id OR '
     'OLD.conversation_id IS DISTINCT FROM NEW.conversation_id) THEN RETURN NULL; END IF; '
     "IF TG_OP <> 'INSERT' THEN SELECT k.owner_id, c.platform INTO row_owner, row_platform "
     'FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = '
     'OLD.conversation_id FOR SHARE OF k; INSERT INTO response_changes (day, owner_id, '
     'platform, responder_id, bucket, bursts, answered) SELECT '
     "to_char(OLD.burst_started_at, 'YYYY-MM-DD'), coalesce(row_owner, -2), row_platform, "
     'coalesce(OLD.responder_id, 0), CASE WHEN OLD.response_seconds IS NULL THEN -2 WHEN '
     'OLD.response_seconds <= 0 THEN 0 WHEN OLD.response_seconds <= 1800 THEN '
     '(OLD.response_seconds + 59) / 60 WHEN OLD.response_seconds <= 86400 THEN 30 + '
     '(OLD.response_seconds - 1800 + 899) / 900 WHEN OLD.response_seconds <= 604800 THEN '
     '124 + (OLD.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -1, CASE WHEN '
     "OLD.answered_at IS NULL THEN 0 ELSE -1 END; END IF; IF TG_OP <> 'DELETE' THEN SELECT "
     'k.owner_id, c.platform INTO row_owner, row_platform FROM conversations c JOIN '
     'contacts k ON k.id = c.contact_id WHERE c.id = NEW.conversation_id FOR SHARE OF k; '
     'INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, '
     "answered) SELECT to_char(NEW.burst_started_at, 'YYYY-MM-DD'), coalesce(row_owner, "
     '-2), row_platform, coalesce(NEW.responder_id, 0), CASE WHEN NEW.response_seconds IS '
     'NULL THEN -2 WHEN NEW.response_seconds <= 0 THEN 0 WHEN NEW.response_seconds <= 1800 '
     'THEN (NEW.response_seconds + 59) / 60 WHEN NEW.response_seconds <= 86400 THEN 30 + '
     '(NEW.response_seconds - 1800 + 899) / 900 WHEN NEW.response_seconds <= 604800 THEN '
     '124 + (NEW.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, 1, CASE WHEN '
     'NEW.answered_at IS NULL THEN 0 ELSE 1 END; END IF; RETURN NULL; END $$ LANGUAGE '
     'plpgsql'),
    ('CREATE OR REPLACE FUNCTION response_changes_contact() RETURNS trigger AS $$ BEGIN '
     'INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, '
     "answered) SELECT to_char(r.burst_started_at, 'YYYY-MM-DD'), coalesce(OLD.owner_id, "
     '-2), c.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL '
     'THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
     '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
     '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
     '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -count(*), '
     '-count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = '
     'r.conversation_id WHERE c.contact_id = NEW.id GROUP BY 1, 3, 4, 5; INSERT INTO '
     'response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) '
     "SELECT to_char(r.burst_started_at, 'YYYY-MM-DD'), coalesce(NEW.owner_id, -2), "
     'c.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN '
     '-2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
     '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
     '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
     '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), '
     'count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = '
     'r.conversation_id WHERE c.contact_id = NEW.id GROUP BY 1, 3, 4, 5; RETURN NULL; END '
     '$$ LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION response_changes_conversation() RETURNS trigger AS $$ '
     'DECLARE was integer; now_owner integer; BEGIN SELECT owner_id INTO was FROM contacts '
     'WHERE id = OLD.contact_id; SELECT owner_id INTO now_owner FROM contacts WHERE id = '
     'NEW.contact_id; INSERT INTO response_changes (day, owner_id, platform, responder_id, '
     "bucket, bursts, answered) SELECT to_char(r.burst_started_at, 'YYYY-MM-DD'), "
     'coalesce(was, -2), OLD.platform, coalesce(r.responder_id, 0), CASE WHEN '
     'r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN '
     'r.response_seconds <= 1800 THEN (r.response_seconds + 59) / 60 WHEN '
     'r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN '
     'r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 '
     'ELSE 269 END, -count(*), -count(r.answered_at) FROM response_times r WHERE '
     'r.conversation_id = NEW.id GROUP BY 1, 3, 4, 5; INSERT INTO response_changes (day, '
     'owner_id, platform, responder_id, bucket, bursts, answered) SELECT '
     "to_char(r.burst_started_at, 'YYYY-MM-DD'), coalesce(now_owner, -2), NEW.platform, "
     'coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN '
     'r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
     '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
     '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
     '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), '
     'count(r.answered_at) FROM response_times r WHERE r.conversation_id = NEW.id GROUP BY '
     '1, 3, 4, 5; RETURN NULL; END $$ LANGUAGE plpgsql'),
    'DROP TRIGGER IF EXISTS response_changes ON response_times',
    ('CREATE TRIGGER response_changes AFTER INSERT OR DELETE OR UPDATE OF '
     'burst_started_at, answered_at, response_seconds, responder_id, conversation_id ON '
     'response_times FOR EACH ROW EXECUTE FUNCTION response_changes_row()'),
    'DROP TRIGGER IF EXISTS response_changes_contacts ON contacts',
    ('CREATE TRIGGER response_changes_contacts AFTER UPDATE OF owner_id ON contacts FOR '
     'EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION '
     'response_changes_contact()'),
    'DROP TRIGGER IF EXISTS response_changes_conversations ON conversations',
    ('CREATE TRIGGER response_changes_conversations AFTER UPDATE OF contact_id, platform '
     'ON conversations FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id '
     'OR OLD.platform IS DISTINCT FROM NEW.platform) EXECUTE FUNCTION '
     'response_changes_conversation()'),
]
RESPONSE_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS response_changes ON response_times',
    'DROP TRIGGER IF EXISTS response_changes_contacts ON contacts',
    'DROP TRIGGER IF EXISTS response_changes_conversations ON conversations',
    'DROP FUNCTION IF EXISTS response_changes_row()',
    'DROP FUNCTION IF EXISTS response_changes_contact()',
    'DROP FUNCTION IF EXISTS response_changes_conversation()',
]

DIRTY_DAYS_SQLITE_CREATE = [
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_ai AFTER INSERT ON response_times BEGIN '
     'INSERT INTO response_dirty_days (day, changes) VALUES (substr(new.burst_started_at, '
     '1, 10), 1) ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + '
     '1; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_ad AFTER DELETE ON response_times BEGIN '
     'INSERT INTO response_dirty_days (day, changes) VALUES (substr(old.burst_started_at, '
     '1, 10), 1) ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + '
     '1; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_au AFTER UPDATE OF burst_started_at, '
     'answered_at, response_seconds, responder_id, conversation_id ON response_times BEGIN '
     'INSERT INTO response_dirty_days (day, changes) VALUES (substr(old.burst_started_at, '
     '1, 10), 1) ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + '
     '1; INSERT INTO response_dirty_days (day, changes) VALUES '
     '(substr(new.burst_started_at, 1, 10), 1) ON CONFLICT (day) DO UPDATE SET changes = '
     'response_dirty_days.changes + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_contacts_au AFTER UPDATE OF owner_id ON '
     'contacts WHEN old.owner_id IS NOT new.owner_id BEGIN INSERT INTO response_dirty_days '
     '(day, changes) SELECT DISTINCT substr(r.burst_started_at, 1, 10), 1 FROM '
     'response_times r JOIN conversations c ON c.id = r.conversation_id WHERE c.contact_id '
     '= new.id ON CONFLICT (day) DO UPDATE SET changes = response_dirty_days.changes + 1; '
     'END'),
    ('CREATE TRIGGER IF NOT EXISTS response_rollup_conversations_au AFTER UPDATE OF '
     'contact_id, platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR '
     'old.platform IS NOT new.platform BEGIN INSERT INTO response_dirty_days (day, '
     'changes) SELECT DISTINCT substr(r.burst_started_at, 1, 10), 1 FROM response_times r '
     'WHERE r.conversation_id = new.id ON CONFLICT (day) DO UPDATE SET changes = '
     'response_dirty_days.changes + 1; END'),
]
DIRTY_DAYS_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS response_rollup_ai',
    'DROP TRIGGER IF EXISTS response_rollup_ad',
    'DROP TRIGGER IF EXISTS response_rollup_au',
    'DROP TRIGGER IF EXISTS response_rollup_contacts_au',
    'DROP TRIGGER IF EXISTS response_rollup_conversations_au',
]
DIRTY_DAYS_POSTGRESQL_CREATE = [
    ('CREATE OR REPLACE FUNCTION response_rollup_mark() RETURNS trigger AS $$ BEGIN IF '
     "TG_OP <> 'INSERT' THEN INSERT INTO response_dirty_days (day, changes) VALUES "
     "(to_char(OLD.burst_started_at, 'YYYY-MM-DD'), 1) ON CONFLICT (day) DO UPDATE SET "
     "changes = response_dirty_days.changes + 1; END IF; IF TG_OP <> 'DELETE' THEN INSERT "
     'INTO response_dirty_days (day, changes) VALUES (to_char(NEW.burst_started_at, '
     "'YYYY-MM-DD'), 1) ON CONFLICT (day) DO UPDATE SET changes = "
     'response_dirty_days.changes + 1; END IF; RETURN NULL; END $$ LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION response_rollup_mark_contact() RETURNS trigger AS $$ '
     'BEGIN INSERT INTO response_dirty_days (day, changes) SELECT DISTINCT '
     "to_char(r.burst_started_at, 'YYYY-MM-DD'), 1 FROM response_times r JOIN "
     'conversations c ON c.id = r.conversation_id WHERE c.contact_id = NEW.id ON CONFLICT '
     '(day) DO UPDATE SET changes = response_dirty_days.changes + 1; RETURN NULL; END $$ '
     'LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION response_rollup_mark_conversation() RETURNS trigger AS $$ '
     'BEGIN INSERT INTO response_dirty_days (day, changes) SELECT DISTINCT '
     "to_char(r.burst_started_at, 'YYYY-MM-DD'), 1 FROM response_times r WHERE "
     'r.conversation_id = NEW.id ON CONFLICT (day) DO UPDATE SET changes = '
     'response_dirty_days.changes + 1; RETURN NULL; END $$ LANGUAGE plpgsql'),
    'DROP TRIGGER IF EXISTS response_rollup ON response_times',
    ('CREATE TRIGGER response_rollup AFTER INSERT OR DELETE OR UPDATE OF burst_started_at, '
     'answered_at, response_seconds, responder_id, conversation_id ON response_times FOR '
     'EACH ROW EXECUTE FUNCTION response_rollup_mark()'),
    'DROP TRIGGER IF EXISTS response_rollup_contacts ON contacts',
    ('CREATE TRIGGER response_rollup_contacts AFTER UPDATE OF owner_id ON contacts FOR '
     'EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION '
     'response_rollup_mark_contact()'),
    'DROP TRIGGER IF EXISTS response_rollup_conversations ON conversations',
    ('CREATE TRIGGER response_rollup_conversations AFTER UPDATE OF contact_id, platform ON '
     'conversations FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR '
     'OLD.platform IS DISTINCT FROM NEW.platform) EXECUTE FUNCTION '
     'response_rollup_mark_conversation()'),
]
DIRTY_DAYS_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS response_rollup ON response_times',
    'DROP TRIGGER IF EXISTS response_rollup_contacts ON contacts',
    'DROP TRIGGER IF EXISTS response_rollup_conversations ON conversations',
    'DROP FUNCTION IF EXISTS response_rollup_mark()',
    'DROP FUNCTION IF EXISTS response_rollup_mark_contact()',
    'DROP FUNCTION IF EXISTS response_rollup_mark_conversation()',
]

RECOUNT_DIRTY_SQLITE = ('INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, '
                         'answered) SELECT substr(r.burst_started_at, 1, 10), coalesce(k.owner_id, -2), '
                         'c.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN '
                         '-2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
                         '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
                         '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
                         '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), '
                         'count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = '
                         'r.conversation_id JOIN contacts k ON k.id = c.contact_id WHERE '
                         'substr(r.burst_started_at, 1, 10) IN (SELECT day FROM response_dirty_days) GROUP BY '
                         '1, 2, 3, 4, 5')
RECOUNT_DIRTY_POSTGRESQL = ('INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, '
                         "answered) SELECT to_char(r.burst_started_at, 'YYYY-MM-DD'), coalesce(k.owner_id, "
                         '-2), c.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL '
                         'THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN '
                         '(r.response_seconds + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + '
                         '(r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + '
                         '(r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), '
                         'count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = '
                         'r.conversation_id JOIN contacts k ON k.id = c.contact_id WHERE '
                         "to_char(r.burst_started_at, 'YYYY-MM-DD') IN (SELECT day FROM response_dirty_days) "
                         'GROUP BY 1, 2, 3, 4, 5')


def _execute(sqlite: list[str], postgresql: list[str]) -> None:
    """Run the statements written for the database being migrated."""
    bind = op.get_bind()
    for sql in {'sqlite': sqlite, 'postgresql': postgresql}.get(bind.dialect.name, []):
        bind.exec_driver_sql(sql)


def upgrade():
    op.create_table('response_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('responder_id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.Integer(), nullable=False),
    sa.Column('bursts', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response_changes'))
    )
    _execute(DIRTY_DAYS_SQLITE_DROP, DIRTY_DAYS_POSTGRESQL_DROP)
    _execute(RESPONSE_SQLITE_CREATE, RESPONSE_POSTGRESQL_CREATE)
    # The dirty days' rows go, and their response times are logged to be added again.
    op.execute('DELETE FROM response_day_counts '
               'WHERE day IN (SELECT day FROM response_dirty_days)')
    _execute([RECOUNT_DIRTY_SQLITE], [RECOUNT_DIRTY_POSTGRESQL])
    op.drop_table('response_dirty_days')


def downgrade():
    op.create_table('response_dirty_days',
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_response_dirty_days'))
    )
    _execute(RESPONSE_SQLITE_DROP, RESPONSE_POSTGRESQL_DROP)
    _execute(DIRTY_DAYS_SQLITE_CREATE, DIRTY_DAYS_POSTGRESQL_CREATE)
    # Days with changes not yet added are counted again by the older code.
    op.execute('INSERT INTO response_dirty_days (day, changes) '
               'SELECT DISTINCT day, 1 FROM response_changes')
    op.drop_table('response_changes')
