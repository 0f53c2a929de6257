"""`flask users create`."""
import click
from flask import Flask

from crm.accounts.services import create_user
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
