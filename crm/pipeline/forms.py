"""Deal, closing and pipeline-admin forms."""
from flask_wtf import FlaskForm
from wtforms import (DateField, HiddenField, IntegerField, RadioField, SelectField, StringField,
                     TextAreaField, URLField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from crm.contacts.models import PLATFORM_LABELS
from crm.core.forms import OWNER_FILTER, OWNER_FILTER_MESSAGE, CountField, FilterForm, MoneyField
from crm.pipeline import board
from crm.pipeline.models import OPEN
from crm.pipeline.services import CURRENCIES, POST_TYPES
from crm.pipeline.stages import KIND_LABELS, OUTCOME_LABELS

CURRENCY_CHOICES = [(c, c) for c in CURRENCIES]


class DealForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(message="Give the deal a title."),
                                             Length(max=200)],
                        render_kw={"placeholder": "e.g. Spring launch — 1 reel + 3 stories"})
    stage_id = SelectField("Stage", coerce=str, validate_choice=False)
    value_minor = MoneyField("Value")
    currency = SelectField("Currency", choices=CURRENCY_CHOICES, default="USD")
    owner_id = SelectField("Owner", coerce=str, validate_choice=False)
    expected_close_on = DateField("Expected close", validators=[Optional()])
    campaign_id = SelectField("Campaign", coerce=str, validate_choice=False)
    platform = SelectField("Platform", choices=[("", "—")] + list(PLATFORM_LABELS.items()),
                           default="")
    next_step = StringField("Next step", validators=[Optional(), Length(max=200)],
                            description="What happens next, e.g. “Send the brief”.")
    next_step_on = DateField("Next step date", validators=[Optional()])
    version = HiddenField()


class ResultsForm(FlaskForm):
    post_type = SelectField("Post type", choices=[("", "—")] + [(p, p) for p in POST_TYPES],
                            default="")
    posted_url = URLField("Posted URL", validators=[Optional(), Length(max=500)])
    posted_on = DateField("Post date", validators=[Optional()])
    reach = CountField("Reach", validators=[Optional(), NumberRange(min=0)])
    clicks = IntegerField("Clicks", validators=[Optional(), NumberRange(min=0)])
    conversions = IntegerField("Conversions", validators=[Optional(), NumberRange(min=0)])
    revenue_minor = MoneyField("Revenue")
    version = HiddenField()


class LostForm(FlaskForm):
    lost_reason_id = SelectField("Why was it lost?", coerce=str, validate_choice=False)
    lost_note = TextAreaField("In your words", validators=[Optional(), Length(max=2000)],
                              description="Optional unless the reason is “Other”.")


class CloseForm(ResultsForm, LostForm):
    outcome = RadioField("Outcome", choices=[("won", "Won"), ("lost", "Lost")],
                         validators=[DataRequired(message="Choose won or lost.")])


class PipelineForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give it a name."),
                                           Length(max=120)])
    kind = SelectField("Kind", choices=list(KIND_LABELS.items()))


class StageForm(FlaskForm):
    name = StringField("Stage name", validators=[DataRequired(message="Give it a name."),
                                                 Length(max=80)])
    outcome = SelectField("Kind of stage", choices=list(OUTCOME_LABELS.items()))


class NameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(message="Give it a name."),
                                           Length(max=120)])


class FollowUpForm(FlaskForm):
    follow_up_days = IntegerField(
        "Follow up after (days)", validators=[DataRequired(message="Enter a number of days."),
                                              NumberRange(1, 90)],
        description="A follow-up task is created when our last DM got no reply for this long.")


def stage_choices(open_only: bool = True) -> dict:
    """Stages grouped by pipeline, for a select with one optgroup per pipeline."""
    out = {}
    for pipeline in board.pipelines():
        out[pipeline.name] = [(str(s.id), s.name) for s in pipeline.active_stages
                              if not open_only or s.outcome == OPEN]
    return out


class BoardFilterForm(FilterForm):
    """The board's filters (crm.pipeline.board.BoardFilters reads the same names)."""
    pipeline = StringField("Pipeline", validators=[Optional(), Regexp(
        r"^\d+$", message="Choose a pipeline from the list.")])
    owner = StringField("Owner", validators=[Optional(), Regexp(OWNER_FILTER,
                                                                message=OWNER_FILTER_MESSAGE)])
    campaign = StringField("Campaign", validators=[Optional(), Regexp(
        r"^\d+$", message="Choose a campaign from the list.")])
    platform = SelectField("Platform", choices=[("", "Any platform")]
                           + list(PLATFORM_LABELS.items()), default="")
