"""Values as the database driver takes them, for rows written with plain executemany."""
from datetime import datetime

from sqlalchemy import DateTime


# SQLAlchemy's default text form of a DateTime on SQLite.
SQLITE_DATETIME = ("%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d"
                   ".%(microsecond)06d")


def datetime_to_db(dialect):
    """What SQLAlchemy binds for a DateTime value on this dialect, as a function, for rows
    that go to the driver directly. On SQLite with the default text form it is isoformat
    (five times faster than the %-formatting of a dict it replaces; an import converts two
    million values) and gives the same text — held to SQLAlchemy's by a test."""
    impl = DateTime().dialect_impl(dialect)
    process = impl.bind_processor(dialect)
    if dialect.name != "sqlite" or getattr(impl, "_storage_format", None) != SQLITE_DATETIME:
        return process

    def to_text(value):
        if value.__class__ is datetime and value.tzinfo is None:
            text = value.isoformat(" ")
            return text if value.microsecond else text + ".000000"
        return process(value)
    return to_text
