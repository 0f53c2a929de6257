"""Registering an endpoint; allowing private receivers."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from crm.webhooks.models import EVENTS


class CheckboxList(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EndpointForm(FlaskForm):
    url = StringField("Receiver URL", validators=[InputRequired(), Length(max=2000)],
                      description="An https:// address (http:// works too) that answers a "
                                  "POST with a 2xx status.")
    description = StringField("Description", validators=[Optional(), Length(max=200)],
                              description="What receives these, e.g. “Zapier: won deals to "
                                          "Slack”.")
    events = CheckboxList("Events", choices=[(k, f"{k} — {v}") for k, v in EVENTS.items()],
                          validate_choice=False)


class PrivateForm(FlaskForm):
    allow_private = BooleanField("Allow receivers at private addresses (loopback, 10.x, "
                                 "172.16–31.x, 192.168.x, link-local, …)")
