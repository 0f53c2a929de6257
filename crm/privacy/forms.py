"""Privacy forms: the typed confirmation of an erasure, and the retention limits."""
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, NumberRange, Optional


class EraseForm(FlaskForm):
    confirm_name = StringField("Type the person's name to confirm",
                               validators=[InputRequired("Type the person's name to confirm.")])
    reason = TextAreaField(
        "Why", validators=[InputRequired("Say why the data is erased.")],
        description="Kept in the audit log: for example “erasure request by email of 3 "
                    "March”. Their name, if you write it, is removed from it.")


class RetentionForm(FlaskForm):
    conversations = IntegerField(
        "Keep closed conversations for (days)", validators=[Optional(), NumberRange(1, 36500)],
        description="Empty: for ever. Counted from when the conversation was closed (or its "
                    "last message).")
    contacts = IntegerField(
        "Keep archived contacts for (days)", validators=[Optional(), NumberRange(1, 36500)],
        description="Empty: for ever. Counted from when the contact was archived.")
    consent_evidence = IntegerField(
        "Keep consent evidence for (days)", validators=[InputRequired(), NumberRange(1, 36500)],
        description="The messages that prove a consent change stay readable and exportable "
                    "this long, whatever the limits above; an archived contact whose consent "
                    "changed within it is kept until it has passed.")
