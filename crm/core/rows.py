"""Small read-only rows that busy lists show instead of ORM objects.

A list page builds dozens of objects per request; loading them as mapped instances (with the
identity map, instrumentation and joined relationships) cost more than rendering them."""
from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class Named:
    """A related record as a row shows it: its id and its name (a deal's title)."""
    id: int
    name: str

    @property
    def title(self) -> str:
        return self.name


def named(id_, name) -> Named | None:
    return Named(id_, name) if id_ is not None else None
