"""Task rules: create (outreach tasks pass the consent gate), edit, reassign, delete,
complete, snooze, reopen."""
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

from crm import policy
from crm.accounts.models import User
from crm.audit import services as audit
from crm.contacts.consent import require_may_contact
from crm.contacts.models import Contact
from crm.conversations.models import Message
from crm.core.errors import Conflict, ValidationFailed
from crm.core.plans import inline
from crm.core.timeutil import from_local, local, utcnow
from crm.extensions import db
from crm.pipeline.models import Deal
from crm.tasks.models import Task

# A deleted task keeps its row, seen by nobody (crm.policy): an automatic follow-up's row is
# what stops the follow-up job from creating it again for the same unanswered DM.
OPEN, DONE, CANCELLED, DELETED = "open", "done", "cancelled", "deleted"
SNOOZES = {"1d": "1 day", "3d": "3 days", "next_week": "Next week"}
COUNT_CAP = 999


def day_bounds(tz_name: str | None, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Start and end of the user's today, as naive UTC."""
    today = local(now or utcnow(), tz_name).date()
    start = from_local(datetime.combine(today, time()), tz_name)
    end = from_local(datetime.combine(today + timedelta(days=1), time()), tz_name)
    return start, end


def due_counts(user, now: datetime | None = None) -> dict:
    """Open tasks assigned to `user`: overdue (before today) and due today; capped counts."""
    start, end = day_bounds(user.timezone, now)

    def capped(*where):
        inner = (select(Task.id).where(Task.assignee_id == user.id, Task.status == OPEN, *where)
                 .limit(inline(COUNT_CAP + 1)).subquery())
        return db.session.scalar(select(func.count()).select_from(inner))

    return {"overdue": capped(Task.due_at < start),
            "due_today": capped(Task.due_at >= start, Task.due_at < end)}


def _require_view(actor, task: Task) -> None:
    if actor is not None and not policy.can_view_task(actor, task):
        raise ValidationFailed("You cannot change this task.")


def _save(task: Task, expected_version: int | None = None, flush: bool = True) -> None:
    message = (f"“{task.title}” was changed by someone else since you loaded the page; "
               "it now shows its current state.")
    if expected_version is not None and expected_version != task.version:
        raise Conflict(message)
    if flush:
        try:
            db.session.flush()
        except StaleDataError:
            raise Conflict(message)


def _assignee(actor, assignee_id, contact=None, deal=None):
    """The user a task goes to (the actor when none is chosen): only managers give tasks to
    someone else, and only to an active user who may see the task's contact (or deal)."""
    if assignee_id in (None, ""):
        return actor
    assignee_id = int(assignee_id)
    if actor is not None and assignee_id != actor.id and not policy.can_reassign(actor):
        raise ValidationFailed("Only managers can give tasks to someone else.",
                               field="assignee_id")
    user = db.session.get(User, assignee_id)
    if user is None or not user.active:
        raise ValidationFailed("Choose an active user.", field="assignee_id")
    if not policy.may_be_given_task(user, contact, deal):
        raise ValidationFailed(f"{user.name} may not see "
                               f"{contact.name if contact is not None else 'this deal'}; "
                               "choose someone who may.", field="assignee_id")
    return user


def _links(actor, contact_id, deal_id):
    deal = contact = None
    if deal_id not in (None, ""):
        deal = db.session.get(Deal, int(deal_id))
        if deal is None or (actor is not None and not policy.can_view_deal(actor, deal)):
            raise ValidationFailed("Choose a deal you can see.", field="deal_id")
    if contact_id not in (None, ""):
        contact = db.session.get(Contact, int(contact_id))
        if contact is None or (actor is not None and not policy.can_view_contact(actor, contact)):
            raise ValidationFailed("Choose a contact you can see.", field="contact_id")
    if deal is not None and contact is not None and deal.contact_id != contact.id:
        raise ValidationFailed("That deal belongs to another contact.", field="deal_id")
    return (contact or (deal.contact if deal else None)), deal


def _title(data: dict) -> str:
    title = " ".join((data.get("title") or "").split())[:200]
    if not title:
        raise ValidationFailed("Say what has to be done.", field="title")
    return title


def _due_at(data: dict) -> datetime:
    due_at = data.get("due_at")
    if not isinstance(due_at, datetime):
        raise ValidationFailed("Choose when it is due.", field="due_at")
    return due_at


def _require_outreach_allowed(actor, contact) -> None:
    if contact is None:
        raise ValidationFailed("An outreach task needs a contact.", field="is_outreach")
    # A deal owned on someone else's contact is not a way to reach them (nor to learn
    # their consent from the refusal): outreach needs a contact the user may see.
    if actor is not None and not policy.can_view_contact(actor, contact):
        raise ValidationFailed("An outreach task needs a contact you can see; ask their "
                               "owner or a manager.")
    require_may_contact(contact, action="outreach task")


def create_task(actor, data: dict) -> Task:
    """A follow-up task; an outreach task (a DM to send) needs a contact who may be contacted."""
    title, due_at = _title(data), _due_at(data)
    contact, deal = _links(actor, data.get("contact_id"), data.get("deal_id"))
    is_outreach = bool(data.get("is_outreach"))
    if is_outreach:
        _require_outreach_allowed(actor, contact)
    assignee = _assignee(actor, data.get("assignee_id"), contact, deal)
    task = Task(title=title, due_at=due_at, notes=(data.get("notes") or "").strip() or None,
                assignee_id=getattr(assignee, "id", None),
                created_by_id=getattr(actor, "id", None),
                contact_id=contact.id if contact else None, deal_id=deal.id if deal else None,
                is_outreach=is_outreach, auto=bool(data.get("auto")),
                source_message_id=data.get("source_message_id"), status=OPEN)
    if task.source_message_id is not None:   # when that DM was answered, if it was
        task.source_replied_at = db.session.scalar(
            select(Message.replied_at).where(Message.id == task.source_message_id))
    db.session.add(task)
    db.session.flush()
    audit.record(actor, "create", task, summary=f"Task “{title}” created"
                 + (f" for {contact.name}" if contact else ""))
    return task


def update_task(actor, task: Task, data: dict, *, expected_version: int | None = None) -> Task:
    """Edit a task's title, due time, notes and outreach flag, and give it to someone else;
    audited as "update" and, when the assignee changes, "reassign"."""
    _require_view(actor, task)
    _save(task, expected_version, flush=False)
    title, due_at = _title(data), _due_at(data)
    is_outreach = bool(data.get("is_outreach"))
    if is_outreach and not task.is_outreach:
        _require_outreach_allowed(actor, task.contact)
    old_assignee = task.assignee
    assignee = old_assignee
    if str(data.get("assignee_id") or "") != str(task.assignee_id or ""):
        assignee = _assignee(actor, data.get("assignee_id"), task.contact, task.deal)
    task.title, task.due_at, task.is_outreach = title, due_at, is_outreach
    task.notes = (data.get("notes") or "").strip() or None
    changes = audit.changes_of(task)
    task.assignee = assignee
    _save(task)
    if changes:
        audit.record(actor, "update", task, summary=f"Task “{title}” edited", changes=changes)
    if assignee is not old_assignee:
        audit.record(actor, "reassign", task,
                     summary=f"Task “{title}” given to {getattr(assignee, 'name', 'nobody')}",
                     changes={"assignee_id": [getattr(old_assignee, "id", None),
                                              getattr(assignee, "id", None)]})
    return task


def delete_task(actor, task: Task, *, expected_version: int | None = None) -> None:
    """Delete a task: it leaves every list and page; the audit log keeps what it was."""
    _require_view(actor, task)
    _save(task, expected_version, flush=False)
    task.status = DELETED
    _save(task)
    audit.record(actor, "delete", task, summary=f"Task “{task.title}” deleted",
                 changes={"title": task.title, "due_at": task.due_at})


def complete_task(actor, task: Task, *, expected_version: int | None = None,
                  now: datetime | None = None) -> bool:
    """Mark a task done; False when it was not open."""
    _require_view(actor, task)
    _save(task, expected_version, flush=False)
    if task.status != OPEN:
        return False
    task.status = DONE
    task.done_at = now or utcnow()
    _save(task)
    audit.record(actor, "complete", task, summary=f"Task “{task.title}” done")
    return True


def reopen_task(actor, task: Task, *, expected_version: int | None = None) -> bool:
    """Undo a completion; an outreach task opens again only for someone who may be contacted."""
    _require_view(actor, task)
    _save(task, expected_version, flush=False)
    if task.status != DONE:
        return False
    if task.is_outreach and task.contact is not None:
        require_may_contact(task.contact, action="outreach task")
    task.status = OPEN
    task.done_at = None
    _save(task)
    audit.record(actor, "reopen", task, summary=f"Task “{task.title}” reopened")
    return True


def snoozed_until(task: Task, choice: str, tz_name: str | None,
                  now: datetime | None = None) -> datetime:
    """1 day / 3 days later at the same local time (from today when overdue); next week is
    next Monday at 09:00 in the user's zone."""
    now = now or utcnow()
    local_due, local_now = local(task.due_at, tz_name), local(now, tz_name)
    if choice == "next_week":
        monday = local_now.date() + timedelta(days=7 - local_now.weekday())
        return from_local(datetime.combine(monday, time(9, 0)), tz_name)
    days = {"1d": 1, "3d": 3}.get(choice)
    if days is None:
        raise ValidationFailed("Snooze for 1 day, 3 days or until next week.", field="until")
    base = max(local_due.date(), local_now.date())
    return from_local(datetime.combine(base + timedelta(days=days),
                                       local_due.time().replace(tzinfo=None)), tz_name)


def _snooze_to(actor, task: Task, new_due: datetime, label: str) -> datetime:
    old_due = task.due_at
    task.due_at = new_due
    task.snooze_count += 1
    _save(task)
    audit.record(actor, "snooze", task, summary=f"Task “{task.title}” snoozed ({label})",
                 changes={"due_at": [old_due, new_due]})
    return new_due


def _snoozable(actor, task: Task, expected_version: int | None) -> str | None:
    """Checks every snooze shares; returns the time zone its dates are read in."""
    _require_view(actor, task)
    _save(task, expected_version, flush=False)
    if task.status != OPEN:
        raise ValidationFailed("Only open tasks can be snoozed.")
    return getattr(actor, "timezone", None) or (task.assignee.timezone if task.assignee else None)


def snooze_task(actor, task: Task, choice: str, *, expected_version: int | None = None,
                now: datetime | None = None) -> datetime:
    """Push an open task later (1 day, 3 days, next week); returns the new due time."""
    tz = _snoozable(actor, task, expected_version)
    return _snooze_to(actor, task, snoozed_until(task, choice, tz, now), SNOOZES[choice])


def snooze_task_until(actor, task: Task, day: date | None, *,
                      expected_version: int | None = None,
                      now: datetime | None = None) -> datetime:
    """Push an open task to a day of one's choosing, at its own local time of day; the new
    due time may not be in the past."""
    tz = _snoozable(actor, task, expected_version)
    now = now or utcnow()
    if not isinstance(day, date):
        raise ValidationFailed("Snooze until: choose a date.", field="until_date")
    if day < local(now, tz).date():
        raise ValidationFailed("Snooze until: that date is in the past; choose today or later.",
                               field="until_date")
    new_due = from_local(datetime.combine(day, local(task.due_at, tz).time().replace(tzinfo=None)),
                         tz)
    if new_due <= now:
        raise ValidationFailed(f"Snooze until: {local(new_due, tz):%H:%M} today has passed; "
                               "choose a later date.", field="until_date")
    return _snooze_to(actor, task, new_due, f"until {local(new_due, tz):%a %d %b}")
