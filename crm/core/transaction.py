"""One transaction per request (as Indico's RH.process keeps it): views and services only
flush; the request commits once at its end, before the answer leaves, or rolls back. CLI
commands and jobs commit their own unit of work. Work that must see what was written (a
job reading its run, a queued job id) waits for the commit with `after_commit`.

A write's answer may be drawn after that commit (`answer_after_commit`): what it shows is
read and rendered once the writes are committed, so the write holds its locks for the
writes alone — on SQLite the database's one write lock, for which every other writer waits.
"""
import logging
from typing import Callable

from flask import Response, current_app, g
from sqlalchemy import event
from sqlalchemy.orm import Session

from crm.extensions import db

log = logging.getLogger(__name__)
_WAITING = "after_commit"


def after_commit(fn, *args) -> None:
    """Call `fn(*args)` once the session's transaction has committed; never after a
    rollback. A failure is logged, not raised: the commit has happened."""
    db.session().info.setdefault(_WAITING, []).append((fn, args))


@event.listens_for(Session, "after_commit")
def _run_waiting(session) -> None:
    # SQLAlchemy says after_commit when a savepoint is released too (begin_nested): the
    # transaction goes on, and what waits for its commit waits on.
    if session.in_nested_transaction():
        return
    for fn, args in session.info.pop(_WAITING, ()):
        try:
            fn(*args)
        except Exception:
            log.exception("after the commit, %s%r failed", getattr(fn, "__name__", fn), args)


@event.listens_for(Session, "after_rollback")
def _drop_waiting(session) -> None:
    # A savepoint rolled back (begin_nested) leaves the transaction going: what was queued
    # before it still waits for the commit (a job for a row the savepoint undid finds none).
    if session.in_nested_transaction():
        return
    session.info.pop(_WAITING, None)


def commit_even_if_refused() -> None:
    """This request's work stands though its answer is an error (a refusal recorded, a failed
    sign-in audited): commit it all the same."""
    g.commit_even_if_refused = True


def answer_after_commit(draw: Callable[[], str | tuple[str, dict]],
                        headers: dict | None = None) -> Response:
    """A 200 answer whose body `draw()` makes once the request has committed (returning the
    HTML, or the HTML and more headers). The commit leaves the request's objects as they
    are, not expired: `draw` sees what the request wrote without loading it again, and what
    else it reads it reads in a transaction of its own. It must not write."""
    response = current_app.response_class(headers=headers)
    g.answer_after_commit = (response, draw)
    return response


def end_request(response: Response) -> Response:
    """Commit a success or a redirect, so a failed commit still becomes an error page rather
    than a lost write; roll back an error answer (4xx, 5xx), so a refused or broken request
    changes nothing. Then draw an answer left for after the commit."""
    pending = g.pop("answer_after_commit", None)
    if response.status_code >= 400 and not g.pop("commit_even_if_refused", False):
        db.session.rollback()
        return response
    if pending is None or pending[0] is not response:
        db.session.commit()
        return response
    session = db.session()
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring
    drawn = pending[1]()
    body, more = drawn if isinstance(drawn, tuple) else (drawn, {})
    response.set_data(body)
    response.headers.update(more)
    return response


def abandon_request() -> None:
    """An exception nobody handled: nothing the request did stays."""
    g.pop("commit_even_if_refused", None)
    db.session.rollback()
