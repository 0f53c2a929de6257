"""Sections other features add to the contact page (conversations, deals, tasks…).

A feature registers a function returning its template context; the contact page renders
each registered partial in order, so features do not need to know about each other.
"""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: Callable


PANELS: list[Panel] = []


def contact_panel(template: str, order: int = 50):
    def register(fn):
        PANELS.append(Panel(order, template, fn))
        PANELS.sort(key=lambda p: p.order)
        return fn
    return register


def render_context(user, contact) -> list[tuple[str, dict]]:
    return [(p.template, p.context(user, contact)) for p in PANELS]
