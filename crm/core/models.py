"""Column helpers shared by the models."""
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.exc import StaleDataError

from crm.core.errors import Conflict
from crm.core.timeutil import utcnow
from crm.extensions import db


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


@contextmanager
def conflict_if_changed_meanwhile(message: str):
    """Run a change and flush it; a row another request saved meanwhile (its version moved
    on, found by this flush or an earlier autoflush) is a Conflict with `message`, never an
    error page. The caller rolls back, as for any ServiceError."""
    try:
        yield
        db.session.flush()
    except StaleDataError:
        raise Conflict(message) from None
