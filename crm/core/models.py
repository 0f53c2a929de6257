"""Column helpers shared by the models."""
from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.timeutil import utcnow


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


def commit_keeping_loaded() -> None:
    """Commit, keeping what this request already loaded instead of reading it all again.

    For a write that answers with a fragment of the records it just wrote: their in-memory
    state is what was committed, so reloading every attribute costs a statement per object
    and tells nothing new.
    """
    from crm.extensions import db

    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
