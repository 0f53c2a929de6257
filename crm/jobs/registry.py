"""The jobs a worker knows: name → function, with what its user reads when it fails."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


class JobFailed(Exception):
    """A failure the user can act on; str() is the message they read."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Spec:
    name: str
    func: Callable
    label: str
    failure: str                       # what the user reads after an unexpected error
    on_failure: Callable | None = None  # (job, message): mark what the job worked on
    on_retry: Callable | None = None    # (job): refuse (ServiceError) or get it ready again
    memory_mb: str | None = None        # a config key naming the job's memory ceiling


_specs: dict[str, Spec] = {}


def job(name: str, *, label: str, failure: str | None = None, memory_mb: str | None = None):
    """Register `func(job, *args)` as the job `name` (see crm.jobs for how to add one)."""
    def register(func):
        _specs[name] = Spec(name, func, label, failure or
                            f"{label} stopped because of an error on our side. It was logged "
                            "for the administrators; try again later.", memory_mb=memory_mb)
        func.spec = _specs[name]
        return func
    return register


def on_failure(name: str):
    """Decorate `hook(job, message)`: what to mark failed besides the job itself."""
    def register(hook):
        _specs[name].on_failure = hook
        return hook
    return register


def on_retry(name: str):
    """Decorate `hook(job)`: get the job's subject ready to run again (or refuse)."""
    def register(hook):
        _specs[name].on_retry = hook
        return hook
    return register


def spec(name: str) -> Spec | None:
    return _specs.get(name)
