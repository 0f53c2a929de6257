"""Import forms: the two uploads; preview steps post plain fields checked by the services."""
from zoneinfo import available_timezones

from flask import request
from flask_wtf import FlaskForm
from flask_wtf.file import FileRequired, MultipleFileField
from wtforms import SelectField

from crm.contacts.models import KIND_LABELS
from crm.core.forms import int_or_none

COMMON_ZONES = ["UTC", "Europe/London", "Europe/Berlin", "Europe/Paris", "Europe/Madrid",
                "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
                "America/Sao_Paulo", "Asia/Dubai", "Asia/Kolkata", "Asia/Singapore",
                "Asia/Tokyo", "Australia/Sydney"]


def zone_choices():
    rest = sorted(z for z in available_timezones() if "/" in z and z not in COMMON_ZONES
                  and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))
    return [(z, z.replace("_", " ")) for z in COMMON_ZONES + rest]


# Both upload forms share a page: their fields get ids of their own.
class DMUploadForm(FlaskForm):
    file = MultipleFileField("Export file(s)", id="dm-file",
                             validators=[FileRequired("Choose a file to upload.")],
                             description="The .zip the platform gave you, or the message files "
                                         "from inside it.")
    tz = SelectField("Phone's time zone", default="UTC", validate_choice=False,
                     description="WhatsApp and TikTok exports do not say; other platforms "
                                 "ignore this.")
    new_kind = SelectField("Create new people as", choices=list(KIND_LABELS.items()),
                           default="contact")
    owner_id = SelectField("Owner of new contacts", id="dm-owner", coerce=str,
                           validate_choice=False)


class CSVUploadForm(FlaskForm):
    file = MultipleFileField("Spreadsheet (.csv)", id="csv-file",
                             validators=[FileRequired("Choose a file to upload.")],
                             description="A header row, any column order. UTF-8, Excel's "
                                         "Windows encoding or UTF-16; comma, semicolon or tab.")
    owner_id = SelectField("Owner of new contacts", id="csv-owner", coerce=str,
                           validate_choice=False)


def posted_version() -> int | None:
    """The run's version the posted page was drawn from (see crm.imports.versions)."""
    return int_or_none(request.form.get("version"))
