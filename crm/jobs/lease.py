"""Who is working on a job right now: a lease only one worker can hold.

With Redis, a key with a time to live that the holder renews (redis-py's Lock: a token
only the holder knows, so no one else can renew or release it); a worker that is killed
stops renewing and its lease ends after JOBS_LEASE_SECONDS. That is safe across machines.
With the embedded queue (one machine), an flock on a file in instance/locks: the kernel
releases it the moment the holding process dies, SIGKILL included.
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from contextlib import contextmanager
from pathlib import Path

from flask import current_app
from redis.exceptions import LockError

from crm.jobs import broker

log = logging.getLogger(__name__)


class FileLease:
    def __init__(self, key: str):
        folder = Path(current_app.config.get("JOBS_LOCK_DIR") or
                      Path(current_app.instance_path) / "locks")
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / (re.sub(r"[^A-Za-z0-9_.-]", "_", key) + ".lock")
        self.fd = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    @contextmanager
    def kept(self):
        yield self

    @property
    def lost(self) -> bool:
        return False


class RedisLease:
    def __init__(self, key: str):
        self.seconds = float(current_app.config.get("JOBS_LEASE_SECONDS", 20))
        self.lock = broker.storage().conn.lock(f"{broker.huey.name}.lease.{key}",
                                              timeout=self.seconds, thread_local=False)
        self._lost = threading.Event()

    def acquire(self) -> bool:
        return bool(self.lock.acquire(blocking=False))

    def release(self) -> None:
        try:
            self.lock.release()
        except LockError:
            log.warning("lease %s had already ended", self.lock.name)

    @contextmanager
    def kept(self):
        """Renew the lease from a thread every third of its life while the job runs."""
        stop = threading.Event()

        def renew():
            while not stop.wait(self.seconds / 3):
                try:
                    self.lock.reacquire()
                except Exception:
                    log.exception("lease %s lost", self.lock.name)
                    self._lost.set()
                    return
        thread = threading.Thread(target=renew, name="lease", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()

    @property
    def lost(self) -> bool:
        return self._lost.is_set()


def lease(key: str):
    return RedisLease(key) if broker.backend() == "redis" else FileLease(key)
