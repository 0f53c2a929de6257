"""Saving a page's filters under a name (checked by that page's own filter form), and
renaming a view."""
from urllib.parse import urlencode

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from crm.contacts.forms import ContactFilterForm
from crm.conversations.forms import InboxFilterForm
from crm.core.errors import ValidationFailed
from crm.pipeline.forms import BoardFilterForm
from crm.saved_views.services import filter_pairs, page_of

FILTER_FORMS = {"contacts": ContactFilterForm, "inbox": InboxFilterForm,
                "board": BoardFilterForm}


def clean_query(key: str, query: str) -> str:
    """The page's filters from `query`, checked by the page's filter form: an unknown or bad
    filter is refused, naming it."""
    page = page_of(key)
    pairs = filter_pairs(query)
    form = FILTER_FORMS[key](formdata=MultiDict(pairs))
    unknown = [k for k, _ in pairs if k not in form._fields]
    if unknown:
        raise ValidationFailed(f"“{unknown[0]}” is not a filter of the {page.label}; nothing "
                               "was saved.", field=unknown[0])
    if not form.validate():
        name, errors = next(iter(form.errors.items()))
        raise ValidationFailed(f"{form[name].label.text}: {errors[0]} Nothing was saved.",
                               field=name)
    return urlencode(pairs)


class SaveViewForm(FlaskForm):
    page = HiddenField()
    query = HiddenField()
    name = StringField("Name", validators=[DataRequired(message="Name the view."),
                                           Length(max=80)])
    shared = BooleanField("Share with the team")


class RenameViewForm(FlaskForm):
    name = StringField("New name", validators=[DataRequired(message="Name the view."),
                                               Length(max=80)])
