"""Work figures from the task records: overdue and completed per person, automatic
follow-ups created and how many were followed by a reply (kept on the task)."""
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, literal, select, union_all

from crm.extensions import db
from crm.core.cache import remember
from crm.reports.sqlhelp import ratio
from crm.tasks.models import Task
from crm.tasks.services import day_bounds


@dataclass
class WorkFigures:
    overdue_by_assignee: dict = field(default_factory=dict)     # user id (or None) -> count
    done_by_assignee: dict = field(default_factory=dict)
    follow_ups: int = 0
    follow_ups_replied: int = 0

    @property
    def overdue(self) -> int:
        return sum(self.overdue_by_assignee.values())

    @property
    def done(self) -> int:
        return sum(self.done_by_assignee.values())

    @property
    def follow_up_reply_rate(self) -> float | None:
        return ratio(self.follow_ups_replied, self.follow_ups)


def work_figures(scope, now: datetime | None = None) -> WorkFigures:
    """Tasks overdue now and done in the range, per assignee; follow-ups (two queries, each
    remembered apart)."""
    today_starts = day_bounds(scope.tz, now)[0]   # overdue: due before it (the Today page's rule)
    fig = WorkFigures()
    fig.overdue_by_assignee, fig.done_by_assignee = remember(
        "tasks", scope.cache_key + (today_starts,), lambda: per_assignee(scope, today_starts),
        scope.reads("tasks"))
    fig.follow_ups, fig.follow_ups_replied = remember(
        "follow_ups", scope.cache_key, lambda: follow_ups(scope), scope.reads("tasks"))
    return fig


def per_assignee(scope, today_starts: datetime) -> tuple[dict, dict]:
    """({assignee: tasks overdue}, {assignee: tasks done in the range})."""
    overdue_by, done_by = {}, {}
    # Two grouped parts, each on its own index range: one OR of both made SQLite merge two
    # index scans and sort the union (100-200 ms at 50,000 tasks; now ~15 ms).
    scope_where = scope.task_where()
    overdue = (select(literal("overdue").label("kind"), Task.assignee_id, func.count())
               .where(Task.status == "open", Task.due_at < today_starts, *scope_where)
               .group_by(Task.assignee_id))
    done = (select(literal("done").label("kind"), Task.assignee_id, func.count())
            .where(Task.status == "done", Task.done_at >= scope.start, Task.done_at < scope.end,
                   *scope_where)
            .group_by(Task.assignee_id))
    for kind, assignee_id, n in db.session.execute(union_all(overdue, done)):
        if n:
            (overdue_by if kind == "overdue" else done_by)[assignee_id] = int(n)
    return overdue_by, done_by


def follow_ups(scope) -> tuple[int, int]:
    """(automatic follow-ups created in the range, those whose DM was answered after), from
    the tasks alone: each keeps when its DM was answered (written with the reply state,
    crm.conversations.reply_state.follow_up_replies)."""
    row = db.session.execute(
        select(func.count(),
               func.sum(case((Task.source_replied_at >= Task.created_at, 1), else_=0)))
        .where(Task.auto.is_(True), Task.created_at >= scope.start, Task.created_at < scope.end,
               *scope.task_where())).one()
    return int(row[0] or 0), int(row[1] or 0)
