"""Rows written straight to the driver carry the same datetime text SQLAlchemy would bind."""
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import DateTime
from sqlalchemy.dialects import postgresql, sqlite

from crm.imports.bulk import datetime_to_db

VALUES = [datetime(2025, 3, 1, 9, 0, 0), datetime(2025, 3, 1, 9, 0, 0, 123456),
          datetime(2025, 12, 31, 23, 59, 59, 1), datetime(999, 1, 2, 3, 4, 5),
          datetime(2024, 2, 29, 0, 0, 0, 500000), date(2025, 3, 1),
          datetime(2025, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=5))), None]


def test_sqlite_text_is_what_sqlalchemy_binds():
    dialect = sqlite.dialect()
    reference = DateTime().dialect_impl(dialect).bind_processor(dialect)
    fast = datetime_to_db(dialect)
    assert fast is not reference
    for value in VALUES:
        assert fast(value) == reference(value), value
    assert fast(datetime(2025, 3, 1, 9, 0)) == "2025-03-01 09:00:00.000000"


def test_other_databases_keep_sqlalchemys_own():
    dialect = postgresql.dialect()
    reference = DateTime().dialect_impl(dialect).bind_processor(dialect)
    mine = datetime_to_db(dialect)
    assert (mine is None) == (reference is None)
    for value in VALUES if mine is not None else ():
        assert mine(value) == reference(value)
