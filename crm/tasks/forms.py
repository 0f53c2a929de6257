"""Task forms."""
from datetime import time, timedelta

from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

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


def assignee_choices():
    if not current_user.is_manager:
        return [(str(current_user.id), current_user.name)]
    users = db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.name))
    return [(str(u.id), u.name) for u in users]


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
