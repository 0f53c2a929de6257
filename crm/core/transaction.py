"""A request's one transaction (as Indico's RH.process keeps it): views and services only
flush; the request commits once at its end, before the answer leaves, or rolls back. Work
that must see what the request wrote (a job reading its run) waits for that commit."""
from flask import g, has_request_context

from crm.extensions import db


def after_commit(fn, *args) -> None:
    """Call `fn(*args)` once the request's transaction has committed. Outside a request (CLI
    commands, jobs), at once: they commit their own unit of work before starting the next."""
    if has_request_context():
        g.setdefault("after_commit", []).append((fn, args))
    else:
        fn(*args)


def commit_even_if_refused() -> None:
    """This request's work stands though its answer is an error (a refusal recorded, a failed
    sign-in audited): commit it all the same."""
    g.commit_even_if_refused = True


def end_request(status_code: int) -> None:
    """Commit a success or a redirect, so a failed commit still becomes an error page rather
    than a lost write; roll back an error answer (4xx, 5xx), so a refused or broken request
    changes nothing."""
    keep = g.pop("commit_even_if_refused", False)
    waiting = g.pop("after_commit", ())
    if status_code >= 400 and not keep:
        db.session.rollback()
        return
    db.session.commit()
    for fn, args in waiting:
        fn(*args)


def abandon_request() -> None:
    """An exception nobody handled: nothing the request did stays, nothing waits for it."""
    g.pop("commit_even_if_refused", None)
    g.pop("after_commit", None)
    db.session.rollback()
