"""The substring-search index over Contact.search_text.

SQLite: an FTS5 table with the trigram tokenizer, kept in step by triggers.
PostgreSQL: a pg_trgm GIN index, which serves LIKE '%term%'.
The same statements run from the migration and when tests create tables directly.
"""
from crm.core.ddl import DialectDDL

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS contacts_fts USING fts5("
    "search_text, content='contacts', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS contacts_fts_ai AFTER INSERT ON contacts BEGIN "
    "INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS contacts_fts_ad AFTER DELETE ON contacts BEGIN "
    "INSERT INTO contacts_fts(contacts_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS contacts_fts_au AFTER UPDATE OF search_text ON contacts BEGIN "
    "INSERT INTO contacts_fts(contacts_fts, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO contacts_fts(rowid, search_text) VALUES (new.id, new.search_text); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS contacts_fts_au", "DROP TRIGGER IF EXISTS contacts_fts_ad",
    "DROP TRIGGER IF EXISTS contacts_fts_ai", "DROP TABLE IF EXISTS contacts_fts",
]
POSTGRES_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_contacts_search_trgm ON contacts "
    "USING gin (search_text gin_trgm_ops)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS ix_contacts_search_trgm"]


DDL = DialectDDL(SQLITE_CREATE, SQLITE_DROP, POSTGRES_CREATE, POSTGRES_DROP)
statements, install, uninstall = DDL.statements, DDL.install, DDL.uninstall


def rebuild(connection) -> None:
    """Re-read every contact into the index (after bulk loads that bypassed triggers)."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')")
