"""A per-process memory of values by key, the least recently used going first when it is
full (cachetools' LRUCache), safe to share between threads. A value is computed outside
the lock: two threads missing the same key both compute it, and the second keeps its own."""
import threading
from typing import Callable

from cachetools import LRUCache


class Memo:
    def __init__(self, maxsize: int):
        self._values = LRUCache(maxsize)
        self._lock = threading.Lock()

    def get(self, key, compute: Callable):
        """The value kept for `key`, or compute() kept under it."""
        with self._lock:
            try:
                return self._values[key]
            except KeyError:
                pass
        value = compute()
        with self._lock:
            self._values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __iter__(self):
        """The keys held now."""
        with self._lock:
            return iter(list(self._values))
