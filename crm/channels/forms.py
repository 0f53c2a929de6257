"""Connecting a channel, reconnecting it, registering WhatsApp templates."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from crm.channels.models import KIND_LABELS


class ChannelForm(FlaskForm):
    kind = SelectField("Kind", choices=list(KIND_LABELS.items()), validators=[InputRequired()])
    name = StringField("Name", validators=[InputRequired()],
                       description="What the team calls this account, e.g. “Brand Instagram”.")
    account_id = StringField("Account id", validators=[InputRequired()],
                             description="Instagram account id, Facebook Page id, or WhatsApp "
                                         "Business account id.")
    phone_number_id = StringField("Phone number id (WhatsApp)", validators=[Optional()])
    app_secret = PasswordField("App secret", validators=[InputRequired()],
                               description="App settings → Basic in Meta's app dashboard.")
    verify_token = PasswordField("Verify token", validators=[InputRequired()],
                                 description="Any long random text; paste the same into the "
                                             "webhook settings.")
    access_token = PasswordField("Access token", validators=[InputRequired()],
                                 description="A long-lived Page or system-user token.")
    human_agent = BooleanField("Allow human-agent replies up to 7 days (Instagram, Messenger)")


class ReconnectForm(FlaskForm):
    access_token = PasswordField("New access token", validators=[InputRequired()])
    app_secret = PasswordField("New app secret (only if it changed)", validators=[Optional()])


class TemplateForm(FlaskForm):
    name = StringField("Template name", validators=[InputRequired()],
                       description="Exactly as approved in WhatsApp Manager.")
    language = StringField("Language", default="en_US", validators=[InputRequired()])
    body = TextAreaField("Text", validators=[InputRequired()],
                         description="The approved text with {{1}}, {{2}} … for its variables.")
