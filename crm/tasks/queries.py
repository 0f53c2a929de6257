"""Reading tasks: the Today page's three lists and the tasks of a contact or a deal.
Every list is bounded and eager-loads what its rows show."""
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, literal, or_, select, union_all
from sqlalchemy.orm import aliased

from crm import policy
from crm.accounts.models import User
from crm.contacts.models import Contact
from crm.core.keyset import make_cursor, parse_cursor
from crm.core.plans import inline
from crm.core.rows import Named, named
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.pipeline.models import Deal
from crm.tasks.models import Task
from crm.tasks.services import CANCELLED, DONE, OPEN, day_bounds

SECTION_LIMIT = 10     # rows a section opens with: the most urgent first
PAGE_LIMIT = 25        # rows each "Show more" adds
COUNT_CAP = 999
UPCOMING_DAYS = 14
CONTACT_OPEN, CONTACT_CLOSED = 20, 5     # a contact page's open tasks, and closed ones
SECTIONS = ("overdue", "today", "upcoming")


@dataclass(slots=True)
class TaskRow:
    """What a task row shows, read as a plain row: loading Task objects with their contact,
    deal and assignee cost more than the rest of a list of thirty tasks."""
    id: int
    title: str
    notes: str | None
    due_at: datetime
    assignee_id: int | None
    contact_id: int | None
    deal_id: int | None
    status: str
    is_outreach: bool
    auto: bool
    done_at: datetime | None
    cancelled_at: datetime | None
    cancel_note: str | None
    version: int
    contact: Named | None = None
    deal: Named | None = None
    assignee: Named | None = None
    contact_owner_id: int | None = None


ROW_COLUMNS = (Task.id, Task.title, Task.notes, Task.due_at, Task.assignee_id, Task.contact_id,
               Task.deal_id, Task.status, Task.is_outreach, Task.auto, Task.done_at,
               Task.cancelled_at, Task.cancel_note, Task.version)
_assignee = aliased(User)


def _rows_statement(where: list, order_by: tuple, limit: int):
    return (select(*ROW_COLUMNS, Contact.name, Deal.title, _assignee.name, Contact.owner_id)
            .outerjoin(Contact, Contact.id == Task.contact_id)
            .outerjoin(Deal, Deal.id == Task.deal_id)
            .outerjoin(_assignee, _assignee.id == Task.assignee_id)
            .where(*where).order_by(*order_by).limit(limit))


def _task_rows(rows) -> list[TaskRow]:
    return [TaskRow(*row[:14], named(row.contact_id, row[14]), named(row.deal_id, row[15]),
                    named(row.assignee_id, row[16]), row[17]) for row in rows]


def _rows(where: list, order_by: tuple, limit: int) -> list[TaskRow]:
    """Tasks as rows with their contact's name, their deal's title and their assignee's name
    (all a row shows), in one statement."""
    return _task_rows(db.session.execute(_rows_statement(where, order_by, limit)))


@dataclass
class TodayLists:
    overdue: list = field(default_factory=list)
    today: list = field(default_factory=list)
    upcoming: list = field(default_factory=list)
    more: dict = field(default_factory=dict)    # section -> cursor of the next rows, or None
    counts: dict = field(default_factory=dict)  # section -> open tasks in it (capped at 999)
    who: str = "me"


def _who_where(user, who: str) -> tuple[str, list]:
    """Whose tasks: mine, or (managers) everyone's, the unassigned ones, or one person's."""
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
    return who, where


def _section_ranges(start: datetime, end: datetime) -> dict[str, list]:
    """Each Today section's due range, given the user's today as [start, end) in UTC."""
    return {"overdue": [Task.due_at < start],
            "today": [Task.due_at >= start, Task.due_at < end],
            "upcoming": [Task.due_at >= end, Task.due_at < end + timedelta(days=UPCOMING_DAYS)]}


def section_rows(user, name: str, who: str = "me", after: str | None = None,
                 now: datetime | None = None, limit: int = PAGE_LIMIT):
    """One page of a Today section, soonest first; keyset on (due_at, id). Returns the rows,
    the cursor of the next page (None at the end) and whose tasks they are."""
    who, where = _who_where(user, who)
    where = [*where, *_section_ranges(*day_bounds(user.timezone, now or utcnow()))[name]]
    cursor = parse_cursor(after)
    if cursor:
        where.append(or_(Task.due_at > cursor[0],
                         and_(Task.due_at == cursor[0], Task.id > cursor[1])))
    rows = _rows(where, (Task.due_at, Task.id), limit + 1)
    more = make_cursor(rows[limit - 1].due_at, rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], more, who


def _contact_tasks_statement(scope, limit: int, closed: int):
    where = [scope, Task.contact_id == bindparam("contact_id")]
    closed_at = func.coalesce(Task.done_at, Task.cancelled_at)
    open_ids = (select(Task.id).where(*where, Task.status == OPEN)
                .order_by(Task.due_at, Task.id).limit(limit))
    closed_ids = (select(Task.id).where(*where, Task.status.in_((DONE, CANCELLED)))
                  .order_by(closed_at.desc(), Task.id.desc()).limit(closed))
    # One IN over the two lists: with an OR of two INs PostgreSQL reads every task.
    picked = union_all(select(open_ids.subquery().c.id), select(closed_ids.subquery().c.id))
    return _rows_statement([Task.id.in_(picked)], (), limit + closed)


# Statements whose shape never changes, built once with their values bound at each use.
_TASKS_BY_ID = _rows_statement([Task.id.in_(bindparam("ids", expanding=True))], (), None)
_CONTACT_TASKS = _contact_tasks_statement(True, CONTACT_OPEN, CONTACT_CLOSED)


def _capped(where) -> object:
    inner = select(Task.id).where(*where).limit(inline(COUNT_CAP + 1)).subquery()
    return select(func.count()).select_from(inner).scalar_subquery()


def today_lists(user, who: str = "me", now: datetime | None = None,
                limit: int = SECTION_LIMIT, counted: bool = True) -> TodayLists:
    """Open tasks: overdue (before today), today, and the next two weeks, in the user's zone.
    Each section shows its first `limit` rows; a longer one pages on, and is counted (capped
    at COUNT_CAP + 1) when `counted`. Two statements whatever the sizes: the sections' first
    ids and their counts in one, the rows in the other."""
    who, where = _who_where(user, who)
    bounds = day_bounds(user.timezone, now or utcnow())

    ranges = _section_ranges(*bounds)
    parts = []
    for i, name in enumerate(SECTIONS):
        first = (select(Task.id).where(*where, *ranges[name])
                 .order_by(Task.due_at, Task.id).limit(limit + 1).subquery())
        parts.append(select(literal(i).label("section"), first.c.id.label("value")))
        if counted:     # a negative section number marks the section's count
            parts.append(select(literal(-1 - i), _capped([*where, *ranges[name]])))
    found = db.session.execute(union_all(*parts)).all()
    picked = [r for r in found if r.section >= 0]
    counts = {SECTIONS[-1 - r.section]: r.value for r in found if r.section < 0}
    tasks = {t.id: t for t in _task_rows(db.session.execute(
        _TASKS_BY_ID, {"ids": [r.value for r in picked]}))} if picked else {}
    out = TodayLists(who=who)
    for i, name in enumerate(SECTIONS):
        rows = sorted((tasks[r.value] for r in picked if r.section == i and r.value in tasks),
                      key=lambda t: (t.due_at, t.id))
        more = rows[limit - 1] if len(rows) > limit else None
        setattr(out, name, rows[:limit])
        out.more[name] = make_cursor(more.due_at, more.id) if more else None
        out.counts[name] = counts[name] if more and name in counts else len(rows[:limit])
    return out


def open_tasks_for_deal(user, deal, limit: int = 50) -> list[TaskRow]:
    """Open tasks on the deal, and on its contact when they name no deal."""
    return _rows([policy.task_scope(user), Task.status == OPEN,
                  or_(Task.deal_id == deal.id,
                      and_(Task.contact_id == deal.contact_id, Task.deal_id.is_(None)))],
                 (Task.due_at, Task.id), limit)


def tasks_for_contact(user, contact, limit: int = CONTACT_OPEN,
                      closed: int = CONTACT_CLOSED) -> list[TaskRow]:
    """The contact's open tasks (soonest first), then the most recently closed few. One
    statement: the two lists' ids are picked by two limited subqueries."""
    scope = policy.task_scope(user, contact)
    # Every task of a contact the user may see is in scope (the usual case): one statement
    # for all, built once; otherwise the scope's clause holds the user's values.
    stmt = _CONTACT_TASKS if scope is True and (limit, closed) == (CONTACT_OPEN, CONTACT_CLOSED) \
        else _contact_tasks_statement(scope, limit, closed)
    rows = _task_rows(db.session.execute(stmt, {"contact_id": contact.id}))
    open_rows = sorted((t for t in rows if t.status == OPEN), key=lambda t: (t.due_at, t.id))
    closed_rows = sorted((t for t in rows if t.status != OPEN),
                         key=lambda t: (t.done_at or t.cancelled_at or datetime.min, t.id),
                         reverse=True)
    return open_rows + closed_rows

