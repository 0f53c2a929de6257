"""`flask users …` and `flask tokens create`."""
import json

import click
from flask import Flask, current_app, url_for

from crm.accounts import passwords, sessions, tokens, two_factor
from crm.accounts.services import create_user, find_by_email
from crm.core.errors import ValidationFailed
from crm.extensions import db


def register(app: Flask) -> None:
    @app.cli.group("users")
    def users():
        """Manage users."""

    @users.command("create")
    @click.option("--email", required=True, help="Sign-in email.")
    @click.option("--role", type=click.Choice(["admin", "manager", "rep"]), default="rep",
                  show_default=True)
    @click.option("--name", default=None, help="Display name (defaults to the email's name).")
    @click.option("--password", default=None,
                  help="Password; prompted for (hidden, twice) when not given.")
    def create(email, role, name, password):
        """Create a user (the first real admin: --role admin)."""
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        try:
            user = create_user(None, email=email, name=name or "", role=role, password=password)
            db.session.commit()
        except ValidationFailed as e:
            db.session.rollback()
            raise click.ClickException(e.message)
        click.echo(f"Created {user.role} {user.email}.")

    def _user(email):
        user = find_by_email(email)
        if user is None:
            raise click.ClickException(f"No user with the email {email}.")
        return user

    @users.command("reset-link")
    @click.option("--email", required=True, help="Whose password.")
    @click.option("--base-url", default="http://127.0.0.1:5000", show_default=True,
                  help="Where people open Rapport.")
    def reset_link(email, base_url):
        """Print a one-time link to choose a new password (an admin who forgot theirs)."""
        user = _user(email)
        try:
            token = passwords.create_reset_link(None, user)
        except ValidationFailed as e:
            raise click.ClickException(e.message)
        db.session.commit()
        with current_app.test_request_context(base_url=base_url):
            link = url_for("accounts.reset_password", token=token, _external=True)
        hours = current_app.config["PASSWORD_RESET_HOURS"]
        click.echo(f"Open within {hours} hours, once: {link}")

    @users.command("two-factor-off")
    @click.option("--email", required=True)
    def two_factor_off(email):
        """Turn off someone's two-factor sign-in and sign them out everywhere."""
        user = _user(email)
        two_factor.turn_off(user, None)
        sessions.end_all(user, "two-factor turned off")
        db.session.commit()
        click.echo(f"Two-factor sign-in is off for {user.email}.")

    @app.cli.group("tokens")
    def tokens_group():
        """Personal API tokens."""

    @tokens_group.command("create")
    @click.option("--email", required=True, help="Whose token: requests with it act as them.")
    @click.option("--name", required=True, help="What will use it.")
    @click.option("--expires-days", type=int, default=None,
                  help="Days until it stops working (default: never).")
    @click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
    def create_token(email, name, expires_days, as_json):
        """Make an API token for a user and print it (shown this once)."""
        user = _user(email)
        try:
            made = tokens.create_token(None, user, name, expires_in_days=expires_days)
            db.session.commit()
        except ValidationFailed as e:
            db.session.rollback()
            raise click.ClickException(e.message)
        expires = made.token.expires_at.isoformat() + "Z" if made.token.expires_at else None
        if as_json:
            click.echo(json.dumps({"id": made.token.id, "name": made.token.name,
                                   "email": user.email, "token": made.secret,
                                   "expires_at": expires}))
        else:
            click.echo(made.secret)
            click.echo(f"Token “{made.token.name}” for {user.email}"
                       f"{f', expires {expires}' if expires else ''}. It is not shown again.",
                       err=True)
