"""Statements built once and used again.

SQLAlchemy builds a select, and works out the key of its compiled form, anew on every call:
on the board, building its ten statements cost more than SQLite took to run them. A
statement whose shape and values follow from a few plain values (whose scope, which
filters, which stages) is kept per process under those values and executed again as it is;
SQLAlchemy remembers a statement object's cache key, so neither is worked out again.

Only values go in the key, never the time or a row's data: a statement kept here must be
exactly what building it again would give.
"""
import threading
from collections import OrderedDict
from typing import Callable

MAX_KEPT = 512
_kept: OrderedDict = OrderedDict()
_lock = threading.Lock()


def kept(key: tuple, build: Callable):
    """The statement `build()` gives, built once per `key` (the values it is built from)."""
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            return _kept[key]
    stmt = build()
    with _lock:
        _kept[key] = stmt
        while len(_kept) > MAX_KEPT:
            _kept.popitem(last=False)
    return stmt
