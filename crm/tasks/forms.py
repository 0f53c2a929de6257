"""Task forms."""
from datetime import time, timedelta

from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from crm import policy
from crm.accounts.models import User
from crm.core.timeutil import local, utcnow
from crm.extensions import db


class TaskForm(FlaskForm):
    title = StringField("Task", validators=[DataRequired(message="Say what has to be done."),
                                            Length(max=200)])
    due_on = DateField("Due date", validators=[InputRequired(message="Choose a due date.")])
    due_time = TimeField("Time", validators=[Optional()], description="Your time zone.")
    assignee_id = SelectField("Assignee", coerce=str, validate_choice=False)
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)])
    is_outreach = BooleanField("This is outreach (a DM to send)",
                               description="Cancelled automatically if the contact opts out.")
    contact_id = HiddenField()
    deal_id = HiddenField()
    scope = HiddenField()
    next = HiddenField()


class TaskEditForm(TaskForm):
    version = HiddenField()


class SnoozeDateForm(FlaskForm):
    until_date = DateField("Snooze until", validators=[
        InputRequired(message="Snooze until: choose a date.")])


def assignee_choices():
    if not current_user.is_manager:
        return [(str(current_user.id), current_user.name)]
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [(str(u.id), u.name) for u in users]


def edit_task_form(task, formdata=None) -> TaskEditForm:
    """The edit form of a task, filled from it (or from what was posted)."""
    form = TaskEditForm(formdata=formdata)
    form.assignee_id.choices = _edit_assignee_choices(task)
    for f in form:      # ids of their own: several rows may be open for editing at once
        f.id = f"task-{task.id}-{f.name}"
    if formdata is None:
        due = local(task.due_at, current_user.timezone)
        form.title.data, form.notes.data = task.title, task.notes
        form.due_on.data, form.due_time.data = due.date(), due.time().replace(tzinfo=None)
        form.assignee_id.data = str(task.assignee_id or "")
        form.is_outreach.data = task.is_outreach
        form.version.data = task.version
    return form


def _edit_assignee_choices(task):
    """Who a task may be given to: managers choose among the active users who may see its
    contact (or deal); anyone else keeps the current assignee or takes it themselves."""
    if current_user.is_manager:
        users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
        choices = [(str(u.id), u.name) for u in users
                   if u.id == task.assignee_id or policy.may_be_given_task(u, task.contact, task.deal)]
    else:
        choices = [(str(current_user.id), current_user.name)]
        if task.assignee is not None and task.assignee_id != current_user.id:
            choices.insert(0, (str(task.assignee_id), task.assignee.name))
    if task.assignee_id is None:
        choices.insert(0, ("", "Nobody"))
    return choices


def new_task_form(contact=None, deal=None, formdata=None) -> TaskForm:
    """A task form for the contact page, a deal or the Today page, due tomorrow at 09:00."""
    form = TaskForm(formdata=formdata)
    form.assignee_id.choices = assignee_choices()
    if formdata is None:
        tomorrow = local(utcnow(), current_user.timezone).date() + timedelta(days=1)
        form.due_on.data = tomorrow
        form.due_time.data = time(9, 0)
        form.assignee_id.data = str((contact.owner_id if contact is not None and contact.owner_id
                                     and current_user.is_manager else None) or current_user.id)
        form.contact_id.data = contact.id if contact is not None else ""
        form.deal_id.data = deal.id if deal is not None else ""
        form.scope.data = "deal" if deal is not None else ("contact" if contact else "")
    return form
