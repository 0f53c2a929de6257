"""dm rollup

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 16:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The statements below are this migration's own copy of what it installed when it was written
# (frozen history: later changes to the application's code change nothing here).
ROLLUP_SQLITE_CREATE = [
    ('CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_ai AFTER INSERT ON messages BEGIN '
     'INSERT INTO dm_dirty_hours (hour, changes) VALUES (substr(new.sent_at, 1, 13), 1) ON '
     'CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_ad AFTER DELETE ON messages BEGIN '
     'INSERT INTO dm_dirty_hours (hour, changes) VALUES (substr(old.sent_at, 1, 13), 1) ON '
     'CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS dm_rollup_messages_au AFTER UPDATE OF sent_at, '
     'direction, author_id, template_id, replied_at, conversation_id ON messages BEGIN '
     'INSERT INTO dm_dirty_hours (hour, changes) VALUES (substr(old.sent_at, 1, 13), 1) ON '
     'CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; INSERT INTO '
     'dm_dirty_hours (hour, changes) VALUES (substr(new.sent_at, 1, 13), 1) ON CONFLICT '
     '(hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS dm_rollup_contacts_au AFTER UPDATE OF owner_id ON '
     'contacts WHEN old.owner_id IS NOT new.owner_id BEGIN INSERT INTO dm_dirty_hours '
     '(hour, changes) SELECT DISTINCT substr(m.sent_at, 1, 13), 1 FROM messages m JOIN '
     'conversations c ON c.id = m.conversation_id WHERE c.contact_id = new.id ON CONFLICT '
     '(hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END'),
    ('CREATE TRIGGER IF NOT EXISTS dm_rollup_conversations_au AFTER UPDATE OF contact_id, '
     'platform ON conversations WHEN old.contact_id IS NOT new.contact_id OR old.platform '
     'IS NOT new.platform BEGIN INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT '
     'substr(m.sent_at, 1, 13), 1 FROM messages m WHERE m.conversation_id = new.id ON '
     'CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END'),
]
ROLLUP_SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS dm_rollup_messages_ai',
    'DROP TRIGGER IF EXISTS dm_rollup_messages_ad',
    'DROP TRIGGER IF EXISTS dm_rollup_messages_au',
    'DROP TRIGGER IF EXISTS dm_rollup_contacts_au',
    'DROP TRIGGER IF EXISTS dm_rollup_conversations_au',
]
ROLLUP_POSTGRESQL_CREATE = [
    ('CREATE OR REPLACE FUNCTION dm_rollup_mark_message() RETURNS trigger AS $$ BEGIN IF '
     "TG_OP <> 'INSERT' THEN INSERT INTO dm_dirty_hours (hour, changes) VALUES "
     "(to_char(OLD.sent_at, 'YYYY-MM-DD HH24'), 1) ON CONFLICT (hour) DO UPDATE SET "
     "changes = dm_dirty_hours.changes + 1; END IF; IF TG_OP <> 'DELETE' THEN INSERT INTO "
     "dm_dirty_hours (hour, changes) VALUES (to_char(NEW.sent_at, 'YYYY-MM-DD HH24'), 1) "
     'ON CONFLICT (hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; END IF; '
     'RETURN NULL; END $$ LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION dm_rollup_mark_contact() RETURNS trigger AS $$ BEGIN '
     'INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT to_char(m.sent_at, '
     "'YYYY-MM-DD HH24'), 1 FROM messages m JOIN conversations c ON c.id = "
     'm.conversation_id WHERE c.contact_id = NEW.id ON CONFLICT (hour) DO UPDATE SET '
     'changes = dm_dirty_hours.changes + 1; RETURN NULL; END $$ LANGUAGE plpgsql'),
    ('CREATE OR REPLACE FUNCTION dm_rollup_mark_conversation() RETURNS trigger AS $$ BEGIN '
     'INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT to_char(m.sent_at, '
     "'YYYY-MM-DD HH24'), 1 FROM messages m WHERE m.conversation_id = NEW.id ON CONFLICT "
     '(hour) DO UPDATE SET changes = dm_dirty_hours.changes + 1; RETURN NULL; END $$ '
     'LANGUAGE plpgsql'),
    'DROP TRIGGER IF EXISTS dm_rollup_messages ON messages',
    ('CREATE TRIGGER dm_rollup_messages AFTER INSERT OR DELETE OR UPDATE OF sent_at, '
     'direction, author_id, template_id, replied_at, conversation_id ON messages FOR EACH '
     'ROW EXECUTE FUNCTION dm_rollup_mark_message()'),
    'DROP TRIGGER IF EXISTS dm_rollup_contacts ON contacts',
    ('CREATE TRIGGER dm_rollup_contacts AFTER UPDATE OF owner_id ON contacts FOR EACH ROW '
     'WHEN (OLD.owner_id IS DISTINCT FROM NEW.owner_id) EXECUTE FUNCTION '
     'dm_rollup_mark_contact()'),
    'DROP TRIGGER IF EXISTS dm_rollup_conversations ON conversations',
    ('CREATE TRIGGER dm_rollup_conversations AFTER UPDATE OF contact_id, platform ON '
     'conversations FOR EACH ROW WHEN (OLD.contact_id IS DISTINCT FROM NEW.contact_id OR '
     'OLD.platform IS DISTINCT FROM NEW.platform) EXECUTE FUNCTION '
     'dm_rollup_mark_conversation()'),
]
ROLLUP_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS dm_rollup_messages ON messages',
    'DROP TRIGGER IF EXISTS dm_rollup_contacts ON contacts',
    'DROP TRIGGER IF EXISTS dm_rollup_conversations ON conversations',
    'DROP FUNCTION IF EXISTS dm_rollup_mark_message()',
    'DROP FUNCTION IF EXISTS dm_rollup_mark_contact()',
    'DROP FUNCTION IF EXISTS dm_rollup_mark_conversation()',
]


def _execute(sqlite: list[str], postgresql: list[str]) -> None:
    """Run the statements written for the database being migrated."""
    bind = op.get_bind()
    for sql in {'sqlite': sqlite, 'postgresql': postgresql}.get(bind.dialect.name, []):
        bind.exec_driver_sql(sql)


def upgrade():
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
    _execute(ROLLUP_SQLITE_CREATE, ROLLUP_POSTGRESQL_CREATE)
    # Every hour that has messages starts dirty: the first dashboard load counts them.
    if op.get_bind().dialect.name == 'sqlite':
        hour = 'substr(sent_at, 1, 13)'
    else:
        hour = "to_char(sent_at, 'YYYY-MM-DD HH24')"
    op.execute(f'INSERT INTO dm_dirty_hours (hour, changes) SELECT DISTINCT {hour}, 1 FROM messages')


def downgrade():
    _execute(ROLLUP_SQLITE_DROP, ROLLUP_POSTGRESQL_DROP)
    op.drop_table('dm_hour_counts')
    op.drop_table('dm_dirty_hours')
    op.drop_table('dm_days_built')
    with op.batch_alter_table('dm_day_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_dm_day_counts_tz_day')

    op.drop_table('dm_day_counts')
