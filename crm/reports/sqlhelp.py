"""Small SQL expressions that differ between SQLite and PostgreSQL."""
from sqlalchemy import func
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler

from crm.extensions import db


# SQLAlchemy renders Select.with_hint(table, text, "sqlite") nowhere; SQLite takes a hint
# right after the table name, where other dialects' compilers put theirs.
SQLiteCompiler.get_from_hint_text = lambda compiler, table, text: text


def indexed_by(stmt, table, index: str):
    """`stmt` made to read `table` through `index` on SQLite (PostgreSQL plans with
    statistics and is left to choose)."""
    return stmt.with_hint(table, f"INDEXED BY {index}", "sqlite")


def seconds_between(later, earlier):
    """later - earlier in seconds, as a number, computed by the database."""
    if db.engine.dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def ratio(part, whole):
    """part / whole as a float, None when whole is 0 (a rate cannot be computed)."""
    return None if not whole else part / whole
