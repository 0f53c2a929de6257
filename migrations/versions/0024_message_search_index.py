"""a word-search index over message bodies, for search and the command palette

SQLite: the FTS5 table messages_fts (unicode61 words, accents folded) and the triggers that
keep it, filled from the stored messages. PostgreSQL: a GIN index on
to_tsvector('simple', body). The statements are those of crm/conversations/search_index.py
when this ran.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 13:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

SQLITE_CREATE = [
    ("CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(body, content='messages', "
     "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"),
    ('CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN '
     'INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END'),
    ('CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN '
     "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); "
     'END'),
    ('CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF body ON messages BEGIN '
     "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); "
     'INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END'),
    "INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')",
]
SQLITE_DROP = [
    'DROP TRIGGER IF EXISTS messages_fts_au',
    'DROP TRIGGER IF EXISTS messages_fts_ad',
    'DROP TRIGGER IF EXISTS messages_fts_ai',
    'DROP TABLE IF EXISTS messages_fts',
]
POSTGRESQL_CREATE = [
    ("CREATE INDEX IF NOT EXISTS ix_messages_body_words ON messages "
     "USING gin (to_tsvector('simple', body))"),
]
POSTGRESQL_DROP = [
    'DROP INDEX IF EXISTS ix_messages_body_words',
]


def _execute(sqlite: list[str], postgresql: list[str]) -> None:
    """Run the statements written for the database being migrated."""
    bind = op.get_bind()
    for sql in {'sqlite': sqlite, 'postgresql': postgresql}.get(bind.dialect.name, []):
        bind.exec_driver_sql(sql)


def upgrade():
    _execute(SQLITE_CREATE, POSTGRESQL_CREATE)


def downgrade():
    _execute(SQLITE_DROP, POSTGRESQL_DROP)
