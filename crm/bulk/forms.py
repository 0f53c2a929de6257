"""The selection bar's forms: which rows, which action, and what the action needs."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import Length, Optional

from crm.bulk.services import CONTACT_ACTIONS, INBOX_ACTIONS
from crm.conversations.services import SNOOZES

SCOPES = [("selected", "The ticked rows"), ("all", "All matching these filters")]


class _Selection(FlaskForm):
    scope = RadioField("Apply to", choices=SCOPES, default="selected")
    ids = SelectMultipleField("Rows", coerce=str, validate_choice=False)
    next = HiddenField()


class ContactsBulkForm(_Selection):
    action = SelectField("Action", choices=list(CONTACT_ACTIONS.items()))
    owner_id = StringField("New owner", validators=[Optional(), Length(max=12)])
    # Not "tag": that is the list's own filter, which travels in the same form.
    new_tag = StringField("Tag", validators=[Optional(), Length(max=64)])
    campaign_id = StringField("Campaign", validators=[Optional(), Length(max=12)])


class ContactsExportForm(_Selection):
    """The same selection, exported as CSV (no action)."""


class InboxBulkForm(_Selection):
    action = SelectField("Action", choices=list(INBOX_ACTIONS.items()))
    snooze = SelectField("Snooze for", choices=[(k, v[0]) for k, v in SNOOZES.items()],
                         default="1d")
    owner_id = StringField("New owner", validators=[Optional(), Length(max=12)])


def first_error(form) -> str:
    """The form's first error, naming its field."""
    for name, errors in form.errors.items():
        label = form[name].label.text if name in form else name
        return f"{label}: {errors[0]}"
    return ""
