"""Admin forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange


class SettingsForm(FlaskForm):
    response_target_hours = IntegerField(
        "Response target (hours)", validators=[InputRequired(), NumberRange(1, 24 * 14)],
        description="A conversation waiting longer than this is highlighted in the inbox.")
    duplicate_window_days = IntegerField(
        "Duplicate-outreach window (days)", validators=[InputRequired(), NumberRange(1, 365)],
        description="Warn before a DM when the contact got one from anyone in this window.")
    stop_phrases = TextAreaField(
        "Opt-out phrases", validators=[DataRequired()],
        description="One per line. An inbound DM containing one of these (whole words, any "
                    "case or accents) is flagged as a possible opt-out.")
    require_two_factor = BooleanField(
        "Admins and managers must sign in with two-factor codes",
        description="Those without it are signed out and set it up when they sign in again.")
