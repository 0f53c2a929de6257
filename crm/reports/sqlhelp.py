"""Small SQL expressions that differ between SQLite and PostgreSQL."""
from sqlalchemy import Float, cast, func

from crm.extensions import db


def is_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def seconds_between(later, earlier):
    """later - earlier in seconds, as a number, computed by the database."""
    if is_sqlite():
        return (func.julianday(later) - func.julianday(earlier)) * 86400.0
    return func.extract("epoch", later - earlier)


def ratio(part, whole):
    """part / whole as a float, None when whole is 0 (a rate cannot be computed)."""
    return None if not whole else part / whole


def as_float(expr):
    return cast(expr, Float)
