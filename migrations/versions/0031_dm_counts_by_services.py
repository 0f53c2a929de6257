"""the dashboard's DM counts are kept by the services, not by triggers

Migrations 0003 and 0009 had triggers mark the hours of changed messages dirty (recounted
by the next dashboard load, which wrote on GET) and log every change to the response times
(added to the day counts by a worker). The services that write messages, response times,
owners and conversations now add their differences to dm_hour_counts and
response_day_counts in the same transaction (crm.contacts.dm_counts), and the dashboard
sums each viewer's local days from the hours as it reads. So the triggers go, with
dm_dirty_hours, dm_day_counts, dm_days_built and response_changes; dm_hour_counts is made
again (WITHOUT ROWID on SQLite, with an index for one owner's hours) and both tables are
counted afresh from the messages and response times.

Downgrading puts the tables and triggers back, marks every hour with messages dirty (the
older code counts them on its next dashboard load) and keeps the response counts as they
are (exact).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

# The triggers of 0003 and 0009 as they stood, copied here (frozen history).
ROLLUP_SQLITE_CREATE = [
    'CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_ai AFTER INSERT ON messages BEGIN INSERT INTO dm_dirty_hours (hour, changes) VALUES (substr(new.sent_at, 1, 13), 1) ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END',
    'CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_ad AFTER DELETE ON messages BEGIN INSERT INTO dm_dirty_hours (hour, changes) VALUES (substr(old.sent_at, 1, 13), 1) ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END',
    'CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_au AFTER UPDATE OF sent_at, direction, author_id, template_id, replied_at, conversation_id ON messages BEGIN INSERT INTO dm_dirty_hours (hour, changes) VALUES (substr(old.sent_at, 1, 13), 1) ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; INSERT INTO dm_dirty_hours (hour, changes) VALUES (substr(new.sent_at, 1, 13), 1) ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END',
    'CREATE TRIGGER IF NOT EXISTS dm_rollup_contacts_au AFTER UPDATE OF owner_id ON contacts WHEN old.owner_id IS NOT new.owner_id BEGIN INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT substr(m.sent_at, 1, 13), 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.contact_id = new.id ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END',
    'CREATE TRIGGER IF NOT EXISTS dm_rollup_conversations_au AFTER UPDATE OF contact_id, platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR old.platform IS NOT new.platform BEGIN INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT substr(m.sent_at, 1, 13), 1 FROM messages m WHERE m.conversation_id = new.id ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END',
]
ROLLUP_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS dm_rollup_messages_ai',
    'DROP TRIGGER IF EXISTS dm_rollup_messages_ad',
    'DROP TRIGGER IF EXISTS dm_rollup_messages_au',
    'DROP TRIGGER IF EXISTS dm_rollup_contacts_au',
    'DROP TRIGGER IF EXISTS dm_rollup_conversations_au',
]
ROLLUP_POSTGRESQL_CREATE = [
    "CREATE OR REPLACE FUNCTION dm_rollup_mark_message() RETURNS trigger AS $$ BEGIN IF TG_OP <> 'INSERT' THEN INSERT INTO dm_dirty_hours (hour, changes) VALUES (to_char(OLD.sent_at, 'YYYY-MM-DD HH24'), 1) ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END IF; IF TG_OP <> 'DELETE' THEN INSERT INTO dm_dirty_hours (hour, changes) VALUES (to_char(NEW.sent_at, 'YYYY-MM-DD HH24'), 1) ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION dm_rollup_mark_contact() RETURNS trigger AS $$ BEGIN INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT to_char(m.sent_at, 'YYYY-MM-DD HH24'), 1 FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.contact_id = NEW.id ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION dm_rollup_mark_conversation() RETURNS trigger AS $$ BEGIN INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT to_char(m.sent_at, 'YYYY-MM-DD HH24'), 1 FROM messages m WHERE m.conversation_id = NEW.id ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; RETURN NULL; END $$ LANGUAGE plpgsql",
    'DROP TRIGGER IF EXISTS dm_rollup_messages ON messages',
    'CREATE TRIGGER dm_rollup_messages AFTER INSERT OR DELETE OR UPDATE OF sent_at, direction, author_id, template_id, replied_at, conversation_id ON messages FOR EACH ROW EXECUTE FUNCTION dm_rollup_mark_message()',
    'DROP TRIGGER IF EXISTS dm_rollup_contacts ON contacts',
    'CREATE TRIGGER dm_rollup_contacts AFTER UPDATE OF owner_id ON contacts FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION dm_rollup_mark_contact()',
    'DROP TRIGGER IF EXISTS dm_rollup_conversations ON conversations',
    'CREATE TRIGGER dm_rollup_conversations AFTER UPDATE OF contact_id, platform ON conversations FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR OLD.platform IS DISTINCT FROM NEW.platform) EXECUTE FUNCTION dm_rollup_mark_conversation()',
]
ROLLUP_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS dm_rollup_messages ON messages',
    'DROP TRIGGER IF EXISTS dm_rollup_contacts ON contacts',
    'DROP TRIGGER IF EXISTS dm_rollup_conversations ON conversations',
    'DROP FUNCTION IF EXISTS dm_rollup_mark_message()',
    'DROP FUNCTION IF EXISTS dm_rollup_mark_contact()',
    'DROP FUNCTION IF EXISTS dm_rollup_mark_conversation()',
]
RESPONSE_SQLITE_CREATE = [
    'CREATE TRIGGER IF NOT EXISTS response_changes_ai AFTER INSERT ON response_times BEGIN INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT substr(new.burst_started_at, 1, 10), coalesce(k.owner_id, -2), c.platform, coalesce(new.responder_id, 0), CASE WHEN new.response_seconds IS NULL THEN -2 WHEN new.response_seconds <= 0 THEN 0 WHEN new.response_seconds <= 1800 THEN 0 + (new.response_seconds - 0 + 59) / 60 WHEN new.response_seconds <= 86400 THEN 30 + (new.response_seconds - 1800 + 899) / 900 WHEN new.response_seconds <= 604800 THEN 124 + (new.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, 1, CASE WHEN new.answered_at IS NULL THEN 0 ELSE 1 END FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = new.conversation_id; END',
    'CREATE TRIGGER IF NOT EXISTS response_changes_ad AFTER DELETE ON response_times BEGIN INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT substr(old.burst_started_at, 1, 10), coalesce(k.owner_id, -2), c.platform, coalesce(old.responder_id, 0), CASE WHEN old.response_seconds IS NULL THEN -2 WHEN old.response_seconds <= 0 THEN 0 WHEN old.response_seconds <= 1800 THEN 0 + (old.response_seconds - 0 + 59) / 60 WHEN old.response_seconds <= 86400 THEN 30 + (old.response_seconds - 1800 + 899) / 900 WHEN old.response_seconds <= 604800 THEN 124 + (old.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -1, CASE WHEN old.answered_at IS NULL THEN 0 ELSE -1 END FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = old.conversation_id; END',
    'CREATE TRIGGER IF NOT EXISTS response_changes_au AFTER UPDATE OF burst_started_at, answered_at, response_seconds, responder_id, conversation_id ON response_times WHEN old.burst_started_at IS NOT new.burst_started_at OR old.answered_at IS NOT new.answered_at OR old.response_seconds IS NOT new.response_seconds OR old.responder_id IS NOT new.responder_id OR old.conversation_id IS NOT new.conversation_id BEGIN INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT substr(old.burst_started_at, 1, 10), coalesce(k.owner_id, -2), c.platform, coalesce(old.responder_id, 0), CASE WHEN old.response_seconds IS NULL THEN -2 WHEN old.response_seconds <= 0 THEN 0 WHEN old.response_seconds <= 1800 THEN 0 + (old.response_seconds - 0 + 59) / 60 WHEN old.response_seconds <= 86400 THEN 30 + (old.response_seconds - 1800 + 899) / 900 WHEN old.response_seconds <= 604800 THEN 124 + (old.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -1, CASE WHEN old.answered_at IS NULL THEN 0 ELSE -1 END FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = old.conversation_id; INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT substr(new.burst_started_at, 1, 10), coalesce(k.owner_id, -2), c.platform, coalesce(new.responder_id, 0), CASE WHEN new.response_seconds IS NULL THEN -2 WHEN new.response_seconds <= 0 THEN 0 WHEN new.response_seconds <= 1800 THEN 0 + (new.response_seconds - 0 + 59) / 60 WHEN new.response_seconds <= 86400 THEN 30 + (new.response_seconds - 1800 + 899) / 900 WHEN new.response_seconds <= 604800 THEN 124 + (new.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, 1, CASE WHEN new.answered_at IS NULL THEN 0 ELSE 1 END FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = new.conversation_id; END',
    'CREATE TRIGGER IF NOT EXISTS response_changes_contacts_au AFTER UPDATE OF owner_id ON contacts WHEN old.owner_id IS NOT new.owner_id BEGIN INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT substr(r.burst_started_at, 1, 10), coalesce(old.owner_id, -2), c.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -count(*), -count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = r.conversation_id WHERE c.contact_id = new.id GROUP BY 1, 3, 4, 5; INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT substr(r.burst_started_at, 1, 10), coalesce(new.owner_id, -2), c.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = r.conversation_id WHERE c.contact_id = new.id GROUP BY 1, 3, 4, 5; END',
    'CREATE TRIGGER IF NOT EXISTS response_changes_conversations_au AFTER UPDATE OF contact_id, platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR old.platform IS NOT new.platform BEGIN INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT substr(r.burst_started_at, 1, 10), coalesce((SELECT owner_id FROM contacts WHERE id = old.contact_id), -2), old.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -count(*), -count(r.answered_at) FROM response_times r WHERE r.conversation_id = new.id GROUP BY 1, 3, 4, 5; INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT substr(r.burst_started_at, 1, 10), coalesce((SELECT owner_id FROM contacts WHERE id = new.contact_id), -2), new.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), count(r.answered_at) FROM response_times r WHERE r.conversation_id = new.id GROUP BY 1, 3, 4, 5; END',
]
RESPONSE_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS response_changes_ai',
    'DROP TRIGGER IF EXISTS response_changes_ad',
    'DROP TRIGGER IF EXISTS response_changes_au',
    'DROP TRIGGER IF EXISTS response_changes_contacts_au',
    'DROP TRIGGER IF EXISTS response_changes_conversations_au',
]
RESPONSE_POSTGRESQL_CREATE = [
    "CREATE OR REPLACE FUNCTION response_changes_row() RETURNS trigger AS $$ DECLARE row_owner integer; row_platform varchar; BEGIN IF TG_OP = 'UPDATE' AND NOT (OLD.burst_started_at IS DISTINCT FROM NEW.burst_started_at OR OLD.answered_at IS DISTINCT FROM NEW.answered_at OR OLD.response_seconds IS DISTINCT FROM NEW.response_seconds OR OLD.responder_id IS DISTINCT FROM NEW.responder_id OR OLD.conversation_id IS DISTINCT FROM NEW.conversation_id) THEN RETURN NULL; END IF; IF TG_OP <> 'INSERT' THEN SELECT k.owner_id, c.platform INTO row_owner, row_platform FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = OLD.conversation_id FOR SHARE OF k; INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT to_char(OLD.burst_started_at, 'YYYY-MM-DD'), coalesce(row_owner, -2), row_platform, coalesce(OLD.responder_id, 0), CASE WHEN OLD.response_seconds IS NULL THEN -2 WHEN OLD.response_seconds <= 0 THEN 0 WHEN OLD.response_seconds <= 1800 THEN 0 + (OLD.response_seconds - 0 + 59) / 60 WHEN OLD.response_seconds <= 86400 THEN 30 + (OLD.response_seconds - 1800 + 899) / 900 WHEN OLD.response_seconds <= 604800 THEN 124 + (OLD.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -1, CASE WHEN OLD.answered_at IS NULL THEN 0 ELSE -1 END; END IF; IF TG_OP <> 'DELETE' THEN SELECT k.owner_id, c.platform INTO row_owner, row_platform FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.id = NEW.conversation_id FOR SHARE OF k; INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT to_char(NEW.burst_started_at, 'YYYY-MM-DD'), coalesce(row_owner, -2), row_platform, coalesce(NEW.responder_id, 0), CASE WHEN NEW.response_seconds IS NULL THEN -2 WHEN NEW.response_seconds <= 0 THEN 0 WHEN NEW.response_seconds <= 1800 THEN 0 + (NEW.response_seconds - 0 + 59) / 60 WHEN NEW.response_seconds <= 86400 THEN 30 + (NEW.response_seconds - 1800 + 899) / 900 WHEN NEW.response_seconds <= 604800 THEN 124 + (NEW.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, 1, CASE WHEN NEW.answered_at IS NULL THEN 0 ELSE 1 END; END IF; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION response_changes_contact() RETURNS trigger AS $$ BEGIN INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT to_char(r.burst_started_at, 'YYYY-MM-DD'), coalesce(OLD.owner_id, -2), c.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -count(*), -count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = r.conversation_id WHERE c.contact_id = NEW.id GROUP BY 1, 3, 4, 5; INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT to_char(r.burst_started_at, 'YYYY-MM-DD'), coalesce(NEW.owner_id, -2), c.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), count(r.answered_at) FROM response_times r JOIN conversations c ON c.id = r.conversation_id WHERE c.contact_id = NEW.id GROUP BY 1, 3, 4, 5; RETURN NULL; END $$ LANGUAGE plpgsql",
    "CREATE OR REPLACE FUNCTION response_changes_conversation() RETURNS trigger AS $$ DECLARE was integer; now_owner integer; BEGIN SELECT owner_id INTO was FROM contacts WHERE id = OLD.contact_id; SELECT owner_id INTO now_owner FROM contacts WHERE id = NEW.contact_id; INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT to_char(r.burst_started_at, 'YYYY-MM-DD'), coalesce(was, -2), OLD.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, -count(*), -count(r.answered_at) FROM response_times r WHERE r.conversation_id = NEW.id GROUP BY 1, 3, 4, 5; INSERT INTO response_changes (day, owner_id, platform, responder_id, bucket, bursts, answered) SELECT to_char(r.burst_started_at, 'YYYY-MM-DD'), coalesce(now_owner, -2), NEW.platform, coalesce(r.responder_id, 0), CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 ELSE 269 END, count(*), count(r.answered_at) FROM response_times r WHERE r.conversation_id = NEW.id GROUP BY 1, 3, 4, 5; RETURN NULL; END $$ LANGUAGE plpgsql",
    'DROP TRIGGER IF EXISTS response_changes ON response_times',
    'CREATE TRIGGER response_changes AFTER INSERT OR DELETE OR UPDATE OF burst_started_at, answered_at, response_seconds, responder_id, conversation_id ON response_times FOR EACH ROW EXECUTE FUNCTION response_changes_row()',
    'DROP TRIGGER IF EXISTS response_changes_contacts ON contacts',
    'CREATE TRIGGER response_changes_contacts AFTER UPDATE OF owner_id ON contacts FOR EACH ROW WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION response_changes_contact()',
    'DROP TRIGGER IF EXISTS response_changes_conversations ON conversations',
    'CREATE TRIGGER response_changes_conversations AFTER UPDATE OF contact_id, platform ON conversations FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR OLD.platform IS DISTINCT FROM NEW.platform) EXECUTE FUNCTION response_changes_conversation()',
]
RESPONSE_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS response_changes ON response_times',
    'DROP TRIGGER IF EXISTS response_changes_contacts ON contacts',
    'DROP TRIGGER IF EXISTS response_changes_conversations ON conversations',
    'DROP FUNCTION IF EXISTS response_changes_row()',
    'DROP FUNCTION IF EXISTS response_changes_contact()',
    'DROP FUNCTION IF EXISTS response_changes_conversation()',
]

BUCKET = ('CASE WHEN r.response_seconds IS NULL THEN -2 WHEN r.response_seconds <= 0 THEN 0 '
          'WHEN r.response_seconds <= 1800 THEN 0 + (r.response_seconds - 0 + 59) / 60 '
          'WHEN r.response_seconds <= 86400 THEN 30 + (r.response_seconds - 1800 + 899) / 900 '
          'WHEN r.response_seconds <= 604800 THEN 124 + (r.response_seconds - 86400 + 3599) / 3600 '
          'ELSE 269 END')


def _hour(column: str) -> str:
    if op.get_bind().dialect.name == 'sqlite':
        return f'substr({column}, 1, 13)'
    return f"to_char({column}, 'YYYY-MM-DD HH24')"


def _day(column: str) -> str:
    if op.get_bind().dialect.name == 'sqlite':
        return f'substr({column}, 1, 10)'
    return f"to_char({column}, 'YYYY-MM-DD')"


def _execute(sqlite: list[str], postgresql: list[str]) -> None:
    """Run the statements written for the database being migrated."""
    bind = op.get_bind()
    for sql in {'sqlite': sqlite, 'postgresql': postgresql}.get(bind.dialect.name, []):
        bind.exec_driver_sql(sql)


def _count_hours() -> None:
    op.execute(
        'INSERT INTO dm_hour_counts (hour, owner_id, platform, direction, author_id, '
        'template_id, messages, replied) '
        f"SELECT {_hour('m.sent_at')}, coalesce(k.owner_id, -2), c.platform, m.direction, "
        'coalesce(m.author_id, 0), coalesce(m.template_id, 0), count(*), count(m.replied_at) '
        'FROM messages m JOIN conversations c ON c.id = m.conversation_id '
        'JOIN contacts k ON k.id = c.contact_id WHERE m.deleted_at IS NULL '
        'GROUP BY 1, 2, 3, 4, 5, 6')


def _count_responses() -> None:
    """Every response time under its owner and platform, everyone's and every platform's."""
    op.execute('DELETE FROM response_day_counts')
    op.execute(
        'INSERT INTO response_day_counts (owner_id, platform, day, responder_id, bucket, '
        'bursts, answered) '
        "SELECT CASE WHEN s.everyone = 1 THEN -1 ELSE g.owner_id END, "
        "CASE WHEN s.every_platform = 1 THEN '' ELSE g.platform END, "
        'g.day, g.responder_id, g.bucket, sum(g.bursts), sum(g.answered) '
        f"FROM (SELECT coalesce(k.owner_id, -2) AS owner_id, c.platform AS platform, "
        f"{_day('r.burst_started_at')} AS day, coalesce(r.responder_id, 0) AS responder_id, "
        f'{BUCKET} AS bucket, count(*) AS bursts, count(r.answered_at) AS answered '
        'FROM response_times r JOIN conversations c ON c.id = r.conversation_id '
        'JOIN contacts k ON k.id = c.contact_id GROUP BY 1, 2, 3, 4, 5) g '
        'CROSS JOIN (SELECT 0 AS everyone, 0 AS every_platform UNION ALL SELECT 1, 0 '
        'UNION ALL SELECT 0, 1 UNION ALL SELECT 1, 1) s '
        'GROUP BY 1, 2, 3, 4, 5')


def upgrade():
    _execute(ROLLUP_SQLITE_DROP, ROLLUP_POSTGRESQL_DROP)
    _execute(RESPONSE_SQLITE_DROP, RESPONSE_POSTGRESQL_DROP)
    op.drop_table('response_changes')
    op.drop_table('dm_dirty_hours')
    op.drop_table('dm_days_built')
    with op.batch_alter_table('dm_day_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_dm_day_counts_tz_day')
    op.drop_table('dm_day_counts')
    op.drop_table('dm_hour_counts')
    op.create_table('dm_hour_counts',
    sa.Column('hour', sa.String(length=13), nullable=False),
    sa.Column('owner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('author_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('template_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'owner_id', 'platform', 'direction', 'author_id', 'template_id', name=op.f('pk_dm_hour_counts')),
    sqlite_with_rowid=False
    )
    _count_hours()
    op.create_index('ix_dm_hour_counts_owner', 'dm_hour_counts', ['owner_id', 'hour', 'direction', 'platform', 'author_id', 'template_id', 'messages', 'replied'], unique=False)
    _count_responses()


def downgrade():
    op.drop_index('ix_dm_hour_counts_owner', table_name='dm_hour_counts')
    op.drop_table('dm_hour_counts')
    op.create_table('dm_hour_counts',
    sa.Column('hour', sa.String(length=13), nullable=False),
    sa.Column('owner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('author_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('template_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', 'owner_id', 'platform', 'direction', 'author_id', 'template_id', name=op.f('pk_dm_hour_counts'))
    )
    op.create_table('dm_day_counts',
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('tz', 'owner_id', 'day', 'platform', 'kind', 'key_id', name=op.f('pk_dm_day_counts'))
    )
    with op.batch_alter_table('dm_day_counts', schema=None) as batch_op:
        batch_op.create_index('ix_dm_day_counts_tz_day', ['tz', 'day'], unique=False)
    op.create_table('dm_days_built',
    sa.Column('tz', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('tz', 'day', name=op.f('pk_dm_days_built'))
    )
    op.create_table('dm_dirty_hours',
    sa.Column('hour', sa.String(length=13), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('hour', name=op.f('pk_dm_dirty_hours'))
    )
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
    _execute(ROLLUP_SQLITE_CREATE, ROLLUP_POSTGRESQL_CREATE)
    _execute(RESPONSE_SQLITE_CREATE, RESPONSE_POSTGRESQL_CREATE)
    # Every hour that has messages starts dirty: the older code counts them on its next load.
    op.execute(f"INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT {_hour('sent_at')}, 1 "
               'FROM messages')
