"""Campaign forms."""
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm.core.forms import MoneyField
from crm.pipeline.forms import CURRENCY_CHOICES


class CampaignForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give the campaign a name."),
                                           Length(max=160)])
    brand = StringField("Brand or client", validators=[Optional(), Length(max=160)])
    starts_on = DateField("Starts", validators=[Optional()])
    ends_on = DateField("Ends", validators=[Optional()])
    budget_minor = MoneyField("Budget")
    currency = SelectField("Currency", choices=CURRENCY_CHOICES, default="USD")
    owner_id = SelectField("Owner", coerce=str, validate_choice=False)
    description = TextAreaField("Brief", validators=[Optional(), Length(max=5000)],
                                description="What the brand wants: deliverables, dates, tone.")
    version = HiddenField()


class AddPersonForm(FlaskForm):
    contact_id = StringField("Contact", validators=[DataRequired(message="Choose a contact.")])
    stage_id = SelectField("Starting stage", coerce=str, validate_choice=False)
    value_minor = MoneyField("Fee / value")
