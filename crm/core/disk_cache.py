"""A Flask-Caching backend on diskcache: one SQLite file under CACHE_DIR that every process
of a machine shares (the web and the job workers, as `make run` starts them), for an install
without Redis.

diskcache is process-safe (SQLite in WAL mode; a forked process opens its own connection)
and evicts by size. Writing an entry is one short SQLite transaction, about a fifth of what
a file of its own costs (cachelib's FileSystemCache: a temporary file, a rename, a count
file), and every write request renews a generation or two (crm.core.cache).
"""
from typing import Any

import diskcache
from flask_caching.backends.base import BaseCache

SIZE_LIMIT = 256 * 1024 * 1024   # bytes on disk; the least recently stored go first


class DiskCache(BaseCache):
    def __init__(self, directory: str, default_timeout: int = 300,
                 ignore_delete_many_errors: bool = False):
        super().__init__(default_timeout=default_timeout,
                         ignore_delete_many_errors=ignore_delete_many_errors)
        self._cache = diskcache.Cache(directory, size_limit=SIZE_LIMIT)
        self._cache.close()   # opened again by whichever process uses it first

    @classmethod
    def factory(cls, app, config: dict, args: list, kwargs: dict) -> "DiskCache":
        return cls(config["CACHE_DIR"], **kwargs)

    def _expire(self, timeout) -> float | None:
        seconds = self._normalize_timeout(timeout)
        return None if seconds == 0 else seconds   # 0: kept until replaced or evicted

    def get(self, key: str) -> Any:
        return self._cache.get(key)

    def get_many(self, *keys: str) -> list:
        return [self._cache.get(key) for key in keys]

    def has(self, key: str) -> bool:
        return key in self._cache

    def set(self, key: str, value: Any, timeout=None) -> bool:
        return self._cache.set(key, value, expire=self._expire(timeout))

    def set_many(self, mapping: dict, timeout=None) -> list:
        expire = self._expire(timeout)
        with self._cache.transact():     # one SQLite transaction for them all
            for key, value in mapping.items():
                self._cache.set(key, value, expire=expire)
        return list(mapping)

    def add(self, key: str, value: Any, timeout=None) -> bool:
        return self._cache.add(key, value, expire=self._expire(timeout))

    def delete(self, key: str) -> bool:
        return self._cache.delete(key)

    def clear(self) -> bool:
        self._cache.clear()
        return True
