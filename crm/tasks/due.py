"""Tasks coming due: each open task is announced once when its due time arrives (the
task.due webhook event), and again after a snooze when the new time arrives. Run by the
follow-ups job every five minutes; tasks that came due more than a day before are not
announced late (a worker that was down for days does not send a flood)."""
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.tasks.models import Task
from crm.webhooks import outbox

LATE_AT_MOST = timedelta(days=1)
BATCH = 1000


def announce_due(now: datetime | None = None) -> int:
    """Emit task.due for the open tasks that came due since they were last announced;
    returns how many. The caller commits."""
    now = now or utcnow()
    tasks = db.session.scalars(
        select(Task).where(Task.status == "open", Task.due_at <= now,
                           Task.due_at > now - LATE_AT_MOST,
                           or_(Task.announced_due_at.is_(None),
                               Task.announced_due_at != Task.due_at))
        .order_by(Task.due_at, Task.id).limit(BATCH)).all()
    for task in tasks:
        outbox.task_due(task)
    if tasks:
        # A plain UPDATE: announcing is not an edit, so the task's version stays (a person
        # saving it meanwhile gets no conflict); a task snoozed meanwhile stays unannounced.
        table = Task.__table__
        db.session.execute(update(table).where(table.c.id.in_([t.id for t in tasks]),
                                               table.c.due_at <= now)
                           .values(announced_due_at=table.c.due_at))
    return len(tasks)
