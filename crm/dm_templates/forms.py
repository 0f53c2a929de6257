"""Template forms."""
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from crm.contacts.models import PLATFORM_LABELS


class TemplateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the template a name."),
                                           Length(max=120)],
                       description="What the team will pick it by, e.g. “First pitch — beauty”.")
    platform = SelectField("Best on", validate_choice=False,
                           choices=[("", "Any platform")] + list(PLATFORM_LABELS.items()))
    body = TextAreaField("Message", validators=[DataRequired(message="Write the message text."),
                                                Length(max=5000)])
    version = HiddenField()
