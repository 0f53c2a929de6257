"""Forms for logging and correcting DMs."""
from flask_wtf import FlaskForm
from wtforms import (DateTimeLocalField, HiddenField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import Optional, Regexp

from crm.contacts.models import PLATFORM_LABELS
from crm.core.forms import OWNER_FILTER, OWNER_FILTER_MESSAGE, FilterForm
from crm.conversations.models import INBOUND, MEDIA_LABELS, OUTBOUND

DIRECTION_CHOICES = [(INBOUND, "Received"), (OUTBOUND, "Sent")]
MEDIA_CHOICES = [("", "No attachment")] + list(MEDIA_LABELS.items())
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


class MessageFields(FlaskForm):
    # Length and emptiness are the service's rules (its message names the actual length).
    body = TextAreaField("Message")
    direction = RadioField("Direction", choices=DIRECTION_CHOICES, default=INBOUND,
                           validate_choice=False)
    sent_at = DateTimeLocalField("When", format=DATETIME_FORMATS, validators=[Optional()],
                                 description="Leave empty for now; set it to backdate.")
    media = SelectField("Attachment", choices=MEDIA_CHOICES, validate_choice=False)


class LogMessageForm(MessageFields):
    platform = SelectField("Platform", choices=list(PLATFORM_LABELS.items()),
                           validate_choice=False)
    conversation_id = HiddenField()
    template_id = HiddenField()
    confirm = HiddenField()
    shown_until = HiddenField()     # the last message of the thread on screen


class EditMessageForm(MessageFields):
    pass


def invalid_time_message(form) -> None:
    """WTForms says "Not a valid datetime value"; say what to type instead."""
    if form.sent_at.errors:
        form.sent_at.errors = ["Enter a date and time such as 2026-03-14 09:30."]


class InboxFilterForm(FilterForm):
    """The inbox's filters (crm.conversations.queries.InboxFilters reads the same names)."""
    view = SelectField("View", choices=[("needs", "Waiting on you"), ("awaiting", "Waiting on them")],
                       default="needs")
    owner = StringField("Owner", validators=[Optional(), Regexp(OWNER_FILTER,
                                                                message=OWNER_FILTER_MESSAGE)])
    platform = SelectField("Platform", choices=[("", "Any platform")]
                           + list(PLATFORM_LABELS.items()), default="")
