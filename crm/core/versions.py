"""Optimistic versions: a record edited from a page carries the version the page was drawn
from, and a save that lost a race on the version column is a clear Conflict, never a 500."""
from sqlalchemy.orm.exc import StaleDataError

from crm.core.errors import Conflict
from crm.extensions import db


def expect_version(record, expected_version: int | None, message: str) -> None:
    """Refuse a change made from a page drawn from an older version of `record`."""
    if expected_version is not None and expected_version != record.version:
        raise Conflict(message)


def flush_or_conflict(message: str) -> None:
    """Flush, turning a lost race on a version column into a Conflict."""
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(message)
