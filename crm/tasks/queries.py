"""Reading tasks: the Today page's three lists and the tasks of a contact or a deal.
Every list is bounded and eager-loads what its rows show."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from crm import policy
from crm.contacts.models import Contact
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.tasks.models import Task
from crm.tasks.services import OPEN, day_bounds

SECTION_LIMIT = 100
UPCOMING_DAYS = 14


def _rows(stmt, limit: int) -> list[Task]:
    stmt = stmt.options(joinedload(Task.contact).lazyload(Contact.tags),
                        joinedload(Task.contact).selectinload(Contact.handles),
                        selectinload(Task.deal).lazyload("*")).limit(limit)
    return list(db.session.scalars(stmt).unique())


@dataclass
class TodayLists:
    overdue: list = field(default_factory=list)
    today: list = field(default_factory=list)
    upcoming: list = field(default_factory=list)
    more: dict = field(default_factory=dict)   # section -> True when cut at the limit
    who: str = "me"


def today_lists(user, who: str = "me", now: datetime | None = None,
                limit: int = SECTION_LIMIT) -> TodayLists:
    """Open tasks: overdue (before today), today, and the next two weeks, in the user's zone."""
    now = now or utcnow()
    start, end = day_bounds(user.timezone, now)
    where = [policy.task_scope(user), Task.status == OPEN]
    if who == "all" and user.is_manager:
        pass
    elif who == "none" and user.is_manager:
        where.append(Task.assignee_id.is_(None))
    elif who.isdigit() and user.is_manager:
        where.append(Task.assignee_id == int(who))
    else:
        who = "me"
        where.append(Task.assignee_id == user.id)
    out = TodayLists(who=who)
    for name, lo, hi in (("overdue", None, start), ("today", start, end),
                         ("upcoming", end, end + timedelta(days=UPCOMING_DAYS))):
        stmt = select(Task).where(*where, Task.due_at < hi)
        if lo is not None:
            stmt = stmt.where(Task.due_at >= lo)
        rows = _rows(stmt.order_by(Task.due_at, Task.id), limit + 1)
        out.more[name] = len(rows) > limit
        setattr(out, name, rows[:limit])
    return out


def open_tasks_for_deal(user, deal, limit: int = 50) -> list[Task]:
    """Open tasks on the deal, and on its contact when they name no deal."""
    return _rows(select(Task).where(
        policy.task_scope(user), Task.status == OPEN,
        or_(Task.deal_id == deal.id,
            and_(Task.contact_id == deal.contact_id, Task.deal_id.is_(None))))
        .order_by(Task.due_at, Task.id), limit)


def tasks_for_contact(user, contact, limit: int = 20) -> list[Task]:
    """The contact's open tasks, then the most recently closed few."""
    open_rows = _rows(select(Task).where(policy.task_scope(user), Task.contact_id == contact.id,
                                         Task.status == OPEN)
                      .order_by(Task.due_at, Task.id), limit)
    closed = _rows(select(Task).where(policy.task_scope(user), Task.contact_id == contact.id,
                                      Task.status != OPEN)
                   .order_by(func.coalesce(Task.done_at, Task.cancelled_at).desc(),
                             Task.id.desc()), 5)
    return open_rows + closed

