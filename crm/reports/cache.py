"""A small per-process memory of dashboard figures, keyed on a data version.

The DM counts are read from the rollup (crm.reports.rollup) and are not kept here; the
first-response figures come from their own rollup (crm.reports.response_rollup). The figures
still aggregated per request (pipeline, work, consent, and the response times near the
percentile ranks) take 0.3-0.4 s together at a million messages, while a manager tends to
look at the same view again and again. The key holds, besides the view (whose scope, which
filters), the data version: the newest id of every table whose rows the figures count, plus
the audit log's newest id. Every change made through the app writes one of those rows
(logging, correcting or deleting a DM, closing a conversation, moving a deal, completing a
task, changing consent, reassigning a contact…), so a user's own change — in any process —
always shows on their next load. Only plain values are kept (ids, counts, datetimes),
never ORM objects.
"""
import threading
from collections import OrderedDict

from flask import current_app, has_request_context, request
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts.models import ConsentEvent
from crm.conversations.models import Message, ResponseTime
from crm.extensions import db
from crm.pipeline.models import StageChange
from crm.tasks.models import Task

MAX_ENTRIES = 256
VERSION_KEY = "rapport.reports.data_version"
_entries: OrderedDict = OrderedDict()
_lock = threading.Lock()


def enabled() -> bool:
    # Tests wipe the database between cases (ids start again), so they opt in explicitly.
    return bool(current_app.config.get("REPORTS_CACHE", not current_app.testing))


def data_version() -> tuple:
    """The newest id of everything the dashboard counts, read once per request (one query)."""
    if has_request_context() and VERSION_KEY in request.environ:
        return request.environ[VERSION_KEY]
    newest = [select(func.max(col)).scalar_subquery() for col in (
        AuditEvent.id, Message.id, ResponseTime.id, Task.id, StageChange.id, ConsentEvent.id)]
    version = tuple(db.session.execute(select(*newest)).one())
    if has_request_context():
        request.environ[VERSION_KEY] = version
    return version


def remember(name: str, key: tuple, compute):
    """compute(), or the value kept for the same name, key and data version. Callers treat
    the value as read-only: it is shared with later requests."""
    if not enabled():
        return compute()
    full = (name, key, data_version())
    with _lock:
        if full in _entries:
            _entries.move_to_end(full)
            return _entries[full]
    value = compute()
    with _lock:
        _entries[full] = value
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
