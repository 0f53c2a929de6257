"""Contact forms."""
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, FloatField, FormField, HiddenField,
                     SelectField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional

from crm.contacts.models import CONSENT_LABELS, KIND_LABELS, PLATFORM_LABELS
from crm.core.forms import CountField, MoneyField

PLATFORM_CHOICES = list(PLATFORM_LABELS.items())


class _HandleFields:
    platform = SelectField("Platform", choices=PLATFORM_CHOICES, default="instagram")
    handle = StringField("Handle or profile URL", validators=[Optional(), Length(max=255)])
    followers = CountField("Audience", validators=[Optional(), NumberRange(min=0)],
                           description="e.g. 120k or 1.2M")
    engagement_rate = FloatField("Engagement %", validators=[Optional(), NumberRange(0, 100)])


class HandleSubForm(_HandleFields, FlaskForm):
    """One handle row inside the contact form (the outer form carries the CSRF token)."""

    class Meta:
        csrf = False


class ContactForm(FlaskForm):
    kind = SelectField("Kind", choices=list(KIND_LABELS.items()), default="contact")
    name = StringField("Name", validators=[DataRequired(message="Name is required."),
                                           Length(max=200)])
    first_name = StringField("First name (for templates)", validators=[Optional(),
                                                                        Length(max=100)])
    email = StringField("Email", validators=[Optional(), Email(), Length(max=255)])
    phone = StringField("Phone", validators=[Optional(), Length(max=50)])
    company = StringField("Company", validators=[Optional(), Length(max=200)])
    location = StringField("Location", validators=[Optional(), Length(max=200)])
    tags = StringField("Tags", validators=[Optional(), Length(max=500)],
                       description="Comma-separated, e.g. beauty, q3-launch")
    owner_id = SelectField("Owner", coerce=str, validate_choice=False)
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=20000)])
    niche = StringField("Niche", validators=[Optional(), Length(max=100)])
    rate_per_post_minor = MoneyField("Rate per post")
    currency = SelectField("Currency", choices=[("USD", "USD"), ("EUR", "EUR"), ("GBP", "GBP")],
                           default="USD")
    lead_source = StringField("Lead source", validators=[Optional(), Length(max=100)])
    estimated_value_minor = MoneyField("Estimated value")
    handles = FieldList(FormField(HandleSubForm), min_entries=2, max_entries=10)
    version = HiddenField()


class ConsentForm(FlaskForm):
    status = SelectField("Consent", choices=list(CONSENT_LABELS.items()), default="unknown")
    do_not_contact = BooleanField("Do not contact")
    source = StringField("Source", validators=[Optional(), Length(max=200)],
                         description="How you know, e.g. “replied STOP in DM”")
    note = StringField("Note", validators=[Optional(), Length(max=500)])
    confirm = BooleanField("They asked to hear from us again")


class HandleForm(_HandleFields, FlaskForm):
    handle = StringField("Handle or profile URL",
                         validators=[DataRequired(message="Enter a handle."), Length(max=255)])


class NoteForm(FlaskForm):
    body = TextAreaField("Note", validators=[DataRequired(message="Write something."),
                                             Length(max=20000)])

