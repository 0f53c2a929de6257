"""A small per-process memory of dashboard figures, keyed on the versions of what they read.

The DM counts are read from the rollup (crm.reports.rollup) and are not kept here; the
first-response figures come from their own rollup (crm.reports.response_rollup). The figures
still aggregated per request (pipeline, work, consent, and the response times near the
percentile ranks) take 0.2-0.4 s together at a million messages, while a manager tends to
look at the same view again and again. The key holds, besides the view (whose scope, which
filters), the version of each table the figure reads: data_versions, which database
triggers bump in the same transaction as any change to those tables
(crm.reports.version_triggers). So a user's own change — made in any process, by the app or
by a bulk path — always shows on their next load, and recomputes only the figures that read
what changed: logging a DM leaves the pipeline figures remembered, moving a deal the DM and
consent figures. Only plain values are kept (ids, counts, datetimes), never ORM objects.
The navigation's needs-reply badge, counted on every page, is remembered the same way
(crm.conversations.services.needs_reply_count).
"""
from flask import current_app, has_request_context, request
from sqlalchemy import select

from crm.core.memo import Memo
from crm.extensions import db
from crm.reports.models import DataVersion

MAX_ENTRIES = 256
VERSION_KEY = "rapport.reports.data_versions"
_entries = Memo(MAX_ENTRIES)


def enabled() -> bool:
    # Tests wipe the database between cases (versions start again), so they opt in explicitly.
    return bool(current_app.config.get("REPORTS_CACHE", not current_app.testing))


def data_versions() -> dict:
    """{table: version} of every table counted, read once per request (one query)."""
    if has_request_context() and VERSION_KEY in request.environ:
        return request.environ[VERSION_KEY]
    versions = dict(db.session.execute(select(DataVersion.name, DataVersion.version)).all())
    if has_request_context():
        request.environ[VERSION_KEY] = versions
    return versions


def remember(name: str, key: tuple, compute, reads: tuple):
    """compute(), or the value kept for the same name and key while none of the tables in
    `reads` has changed. `reads` must name every table the figure's statements read
    (scope.reads adds the contacts when the scope's clauses read them). Callers treat the
    value as read-only: it is shared with later requests."""
    if not enabled():
        return compute()
    versions = data_versions()
    full = (name, key, tuple((table, versions.get(table, 0)) for table in sorted(reads)))
    return _entries.get(full, compute)


def clear() -> None:
    _entries.clear()
