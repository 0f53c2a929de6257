"""`flask tasks follow-ups`."""
import click
from flask import Flask

from crm.extensions import db
from crm.tasks.followups import create_follow_ups


def register(app: Flask) -> None:
    @app.cli.group("tasks")
    def tasks():
        """Follow-up tasks."""

    @tasks.command("follow-ups")
    def follow_ups():
        """Create follow-up tasks for DMs that got no reply now (a worker does it every 5 minutes)."""
        created = create_follow_ups()
        db.session.commit()
        click.echo(f"{created} follow-up task{'s' if created != 1 else ''} created.")
