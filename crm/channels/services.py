"""Connecting channels and keeping their state: the rules, no request here."""
import re
import secrets as token_source

from sqlalchemy import select

from crm.audit import services as audit
from crm.channels import secrets
from crm.channels.models import (CONNECTED, KIND_LABELS, KINDS, NEEDS_RECONNECTING, WHATSAPP,
                                 Channel, WhatsAppTemplate)
from crm.core.errors import ValidationFailed
from crm.extensions import db

_ID = re.compile(r"^[0-9]{1,30}$")
_TEMPLATE_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def _required(value, field: str, label: str, limit: int = 1000) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(f"Enter the {label}.", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"The {label} is longer than {limit} characters.", field=field)
    return value


def _numeric_id(value, field: str, label: str) -> str:
    value = _required(value, field, label, 30)
    if not _ID.match(value):
        raise ValidationFailed(f"The {label} is a number, as Meta's app dashboard shows it.",
                               field=field)
    return value


def add_channel(actor, *, kind, name, app_secret, verify_token, access_token, account_id,
                phone_number_id=None, human_agent=False) -> Channel:
    """Connect an Instagram account, a Facebook Page or a WhatsApp number."""
    if kind not in KINDS:
        raise ValidationFailed("Choose Instagram, Messenger or WhatsApp.", field="kind")
    name = _required(name, "name", "channel's name", 100)
    app_secret = _required(app_secret, "app_secret", "app secret")
    verify_token = _required(verify_token, "verify_token", "verify token")
    access_token = _required(access_token, "access_token", "access token", 4000)
    account_id = _numeric_id(account_id, "account_id",
                             "WhatsApp Business account id" if kind == WHATSAPP else
                             "account id")
    if kind == WHATSAPP:
        phone_number_id = _numeric_id(phone_number_id, "phone_number_id", "phone number id")
    elif (phone_number_id or "").strip():
        raise ValidationFailed("Only a WhatsApp channel has a phone number id.",
                               field="phone_number_id")
    else:
        phone_number_id = None
    routing = (Channel.phone_number_id == phone_number_id if kind == WHATSAPP
               else Channel.account_id == account_id)
    if db.session.scalar(select(Channel.id).where(Channel.kind == kind, routing)):
        raise ValidationFailed(f"That {KIND_LABELS[kind]} account is already connected.",
                               field="phone_number_id" if kind == WHATSAPP else "account_id")
    channel = Channel(kind=kind, name=name, key=token_source.token_urlsafe(24),
                      app_secret=secrets.encrypt(app_secret),
                      verify_token=secrets.encrypt(verify_token),
                      access_token=secrets.encrypt(access_token), account_id=account_id,
                      phone_number_id=phone_number_id, human_agent=bool(human_agent),
                      status=CONNECTED)
    db.session.add(channel)
    db.session.flush()
    audit.record(actor, "create", channel, summary=f"{KIND_LABELS[kind]} channel “{name}” "
                                                   "connected")
    return channel


def reconnect(actor, channel: Channel, *, access_token, app_secret=None) -> None:
    """A new access token (and app secret, when it changed): the channel works again."""
    channel.access_token = secrets.encrypt(_required(access_token, "access_token",
                                                     "access token", 4000))
    if (app_secret or "").strip():
        channel.app_secret = secrets.encrypt(app_secret.strip())
    channel.status, channel.status_detail = CONNECTED, None
    audit.record(actor, "update", channel, summary=f"Channel “{channel.name}” reconnected")


def set_human_agent(actor, channel: Channel, enabled: bool) -> None:
    """Allow (or not) a person's reply up to 7 days after the contact's last message."""
    if channel.kind == WHATSAPP:
        raise ValidationFailed("WhatsApp has no human-agent window; use a template.")
    if channel.human_agent != bool(enabled):
        channel.human_agent = bool(enabled)
        audit.record(actor, "update", channel,
                     summary=f"Human-agent replies {'on' if enabled else 'off'} for "
                             f"“{channel.name}”")


def mark_needs_reconnecting(channel: Channel, reason: str) -> None:
    """The platform no longer accepts the token: say so instead of failing silently."""
    channel.status, channel.status_detail = NEEDS_RECONNECTING, reason[:500]


def add_template(actor, channel: Channel, *, name, language, body) -> WhatsAppTemplate:
    """Register a WhatsApp template Meta approved, with its {{1}} … variables."""
    if channel.kind != WHATSAPP:
        raise ValidationFailed("Only WhatsApp channels have message templates.")
    name = _required(name, "name", "template's name", 512)
    if not _TEMPLATE_NAME.match(name):
        raise ValidationFailed("A template's name is lower-case letters, digits and _ , as "
                               "in WhatsApp Manager.", field="name")
    language = _required(language, "language", "language code", 16)
    body = _required(body, "body", "template's text", 1024)
    numbers = sorted({int(n) for n in _VARIABLE.findall(body)})
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValidationFailed("Number the variables {{1}}, {{2}} … without gaps.",
                               field="body")
    if any(t.name == name and t.language == language for t in channel.templates):
        raise ValidationFailed("That template is already registered.", field="name")
    template = WhatsAppTemplate(channel_id=channel.id, name=name, language=language, body=body,
                                variables=len(numbers))
    db.session.add(template)
    db.session.flush()
    audit.record(actor, "create", template, summary=f"WhatsApp template “{name}” registered")
    return template


def fill_template(template: WhatsAppTemplate, values: list[str]) -> str:
    """The template's text with its variables filled in, as the contact will read it."""
    values = [(v or "").strip() for v in values]
    if len(values) < template.variables or any(not v for v in values[:template.variables]):
        raise ValidationFailed(f"Fill in all {template.variables} variables of "
                               f"“{template.name}”.", field="template_params")
    return _VARIABLE.sub(lambda m: values[int(m.group(1)) - 1], template.body)


def list_channels() -> list[Channel]:
    return list(db.session.scalars(select(Channel).order_by(Channel.kind, Channel.name)))


def channels_needing_reconnection() -> list[Channel]:
    return list(db.session.scalars(select(Channel).where(Channel.status == NEEDS_RECONNECTING)
                                   .order_by(Channel.name)))


def describe(channel: Channel, callback_url: str) -> dict:
    """A channel as the CLI and the admin page show it: secrets masked."""
    return {"id": channel.id, "kind": channel.kind, "name": channel.name,
            "account_id": channel.account_id, "phone_number_id": channel.phone_number_id,
            "status": channel.status, "status_detail": channel.status_detail,
            "human_agent": channel.human_agent, "callback_url": callback_url,
            "verify_token": secrets.masked(secrets.decrypt(channel.verify_token)),
            "app_secret": secrets.masked(secrets.decrypt(channel.app_secret)),
            "access_token": secrets.masked(secrets.decrypt(channel.access_token))}
