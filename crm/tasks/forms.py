"""Task forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


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
