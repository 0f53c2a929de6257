"""The Huey instance and the back end it is configured to use, one per process.

`configure(app)` points it at JOBS_BACKEND: "sqlite" (a file in instance/, for `make run`),
"redis" (REDIS_URL, production) or "immediate" (the tests: a job runs in the enqueuing
process as soon as its transaction commits). Below both the queue (crm.jobs.queue, which
puts jobs on it) and the runner (crm.jobs.runner, which runs them and keeps their leases).
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

huey = Huey("rapport", results=False, immediate=True)
_state: dict = {"app": None, "backend": "immediate"}


def configure(app: Flask) -> None:
    """Point the queue at the app's back end; tasks run in an app context of `app`."""
    backend = app.config.get("JOBS_BACKEND") or "sqlite"
    name = app.config.get("JOBS_QUEUE_NAME") or "rapport"
    if backend == "immediate":
        storage = MemoryStorage(name)
    elif backend == "redis":
        url = app.config.get("REDIS_URL")
        if not url:
            raise RuntimeError("JOBS_BACKEND=redis needs REDIS_URL.")
        storage = RedisStorage(name, url=url)
    elif backend == "sqlite":
        path = Path(app.config.get("JOBS_SQLITE_PATH") or Path(app.instance_path) / "jobs.sqlite3")
        path.parent.mkdir(parents=True, exist_ok=True)
        storage = SqliteStorage(name, filename=str(path))
    else:
        raise RuntimeError(f"JOBS_BACKEND must be sqlite, redis or immediate, not {backend!r}.")
    huey.name = name
    huey._immediate = backend == "immediate"
    huey.storage = storage
    _state.update(app=app, backend=backend)


def app() -> Flask:
    return _state["app"]


def backend() -> str:
    return _state["backend"]


def storage():
    return huey.storage
