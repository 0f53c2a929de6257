"""The word-search index over Message.body, for finding a conversation by what was said.

SQLite: an FTS5 table (unicode61 words, accents folded) over messages, kept in step by
triggers. PostgreSQL: a GIN index on the body's `simple` text-search vector.
Words rather than the contacts' trigrams: a million messages' trigrams would cost several
times the table, and people look for what was said by its words.
The same statements run from the migration and when tests create tables directly.
"""
from crm.core.ddl import DialectDDL

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5("
    "body, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_ai AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_ad AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_au AFTER UPDATE OF body ON messages BEGIN "
    "INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO messages_fts(rowid, body) VALUES (new.id, new.body); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS messages_fts_au", "DROP TRIGGER IF EXISTS messages_fts_ad",
    "DROP TRIGGER IF EXISTS messages_fts_ai", "DROP TABLE IF EXISTS messages_fts",
]
POSTGRES_CREATE = [
    "CREATE INDEX IF NOT EXISTS ix_messages_body_words ON messages "
    "USING gin (to_tsvector('simple', body))",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS ix_messages_body_words"]


DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall


def rebuild(connection) -> None:
    """Re-read every message into the index (after loads that bypassed the triggers)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")


def suspend_insert_indexing(connection) -> int:
    """For a bulk load on SQLite inside one write transaction: new messages skip the
    per-row trigger (eight times the cost of one statement over them all at the end).
    Returns the id after which `resume_insert_indexing` indexes what was added."""
    if connection.dialect.name != "sqlite":
        return 0
    last = connection.exec_driver_sql("SELECT coalesce(max(id), 0) FROM messages").scalar()
    connection.exec_driver_sql("DROP TRIGGER IF EXISTS messages_fts_ai")
    return last


def resume_insert_indexing(connection, after_id: int) -> None:
    """Index the messages added since `suspend_insert_indexing`, and put the trigger back
    (a rollback instead restores the trigger with the data)."""
    if connection.dialect.name != "sqlite":
        return
    connection.exec_driver_sql(
        "INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages WHERE id > ?",
        (after_id,))
    connection.exec_driver_sql(next(s for s in SQLITE_CREATE if "messages_fts_ai" in s))
