"""`flask channels add|list|process`."""
import json

import click
from flask import Flask

from crm.channels import services
from crm.channels.links import callback_url
from crm.channels.models import KINDS
from crm.core.errors import ServiceError
from crm.extensions import db


def _show(described: dict) -> None:
    click.echo(f"{described['id']}  {described['kind']:<9}  {described['name']}  "
               f"[{described['status']}]")
    click.echo(f"    callback URL: {described['callback_url']}")
    click.echo(f"    verify token: {described['verify_token']}   account id: "
               f"{described['account_id']}"
               + (f"   phone number id: {described['phone_number_id']}"
                  if described["phone_number_id"] else ""))


def register(app: Flask) -> None:
    @app.cli.group("channels")
    def channels():
        """Live channels: Instagram, Messenger and WhatsApp."""

    @channels.command("add")
    @click.option("--kind", type=click.Choice(KINDS), required=True)
    @click.option("--name", required=True, help="What the team calls this account.")
    @click.option("--app-secret", required=True, help="App secret (App settings → Basic).")
    @click.option("--verify-token", required=True,
                  help="A token you choose; paste the same into Meta's webhook settings.")
    @click.option("--access-token", required=True, help="Page / system-user access token.")
    @click.option("--account-id", required=True,
                  help="Instagram account id, Facebook Page id, or WhatsApp Business account id.")
    @click.option("--phone-number-id", default=None, help="WhatsApp: the phone number's id.")
    @click.option("--human-agent", is_flag=True,
                  help="Instagram/Messenger: allow a person's reply up to 7 days after.")
    @click.option("--json", "as_json", is_flag=True, help="Print the channel as JSON.")
    def add(kind, name, app_secret, verify_token, access_token, account_id, phone_number_id,
            human_agent, as_json):
        """Connect a channel and print its callback URL for Meta's dashboard."""
        try:
            channel = services.add_channel(
                None, kind=kind, name=name, app_secret=app_secret, verify_token=verify_token,
                access_token=access_token, account_id=account_id,
                phone_number_id=phone_number_id, human_agent=human_agent)
            described = services.describe(channel, callback_url(channel))
            db.session.commit()
        except ServiceError as e:
            db.session.rollback()
            raise click.ClickException(e.message)
        if as_json:
            click.echo(json.dumps(described, indent=2))
        else:
            _show(described)

    @channels.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print the channels as JSON.")
    def list_(as_json):
        """The connected channels, their callback URLs and state (secrets masked)."""
        try:
            rows = [services.describe(c, callback_url(c)) for c in services.list_channels()]
        except ServiceError as e:
            raise click.ClickException(e.message)
        if as_json:
            click.echo(json.dumps(rows, indent=2))
        elif not rows:
            click.echo("No channels yet: `flask channels add --help`.")
        for row in rows if not as_json else ():
            _show(row)
