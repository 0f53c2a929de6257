"""Contact forms."""
from flask_wtf import FlaskForm
from wtforms import (BooleanField, FieldList, FloatField, FormField, HiddenField,
                     SelectField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional, Regexp

from crm.contacts.models import CONSENT_LABELS, KIND_LABELS, PLATFORM_LABELS
from crm.contacts.queries import SORTS
from crm.core.forms import OWNER_FILTER, OWNER_FILTER_MESSAGE, CountField, FilterForm, MoneyField

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



class ContactFilterForm(FilterForm):
    """The contacts list's filters (crm.contacts.queries.ContactFilters reads the same names)."""
    q = StringField("Search", validators=[Optional(), Length(max=100)])
    kind = SelectField("Kind", choices=[("", "All kinds")] + list(KIND_LABELS.items()), default="")
    owner = StringField("Owner", validators=[Optional(), Regexp(OWNER_FILTER,
                                                                message=OWNER_FILTER_MESSAGE)])
    platform = SelectField("Platform", choices=[("", "Any platform")] + PLATFORM_CHOICES,
                           default="")
    consent = SelectField("Consent", choices=[("", "Any consent")] + list(CONSENT_LABELS.items())
                          + [("dnc", "Do not contact")], default="")
    tag = StringField("Tag", validators=[Optional(), Length(max=64)])
    archived = SelectField("Archived", choices=[("", "No"), ("1", "Yes")], default="")
    sort = SelectField("Sort", choices=[(k, v[0]) for k, v in SORTS.items()], default="name")
