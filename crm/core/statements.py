"""Statements built once and used again.

SQLAlchemy builds a select, and works out the key of its compiled form, anew on every call:
on the board, building its ten statements cost more than SQLite took to run them. A
statement whose shape and values follow from a few plain values (whose scope, which
filters, which stages) is kept per process under those values and executed again as it is;
SQLAlchemy remembers a statement object's cache key, so neither is worked out again.

Only values go in the key, never the time or a row's data: a statement kept here must be
exactly what building it again would give.
"""
from typing import Callable

from crm.core.memo import Memo

MAX_KEPT = 512
_kept = Memo(MAX_KEPT)


def kept(key: tuple, build: Callable):
    """The statement `build()` gives, built once per `key` (the values it is built from)."""
    return _kept.get(key, build)
