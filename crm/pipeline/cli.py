"""`flask pipelines ensure-defaults`."""
import click
from flask import Flask

from crm.extensions import db
from crm.pipeline.defaults import ensure_default_pipelines


def register(app: Flask) -> None:
    @app.cli.group("pipelines")
    def pipelines():
        """Pipelines and stages."""

    @pipelines.command("ensure-defaults")
    def ensure_defaults():
        """Create the ready-made pipelines and lost reasons when they are missing."""
        created = ensure_default_pipelines()
        db.session.commit()
        click.echo(f"{created} pipeline{'s' if created != 1 else ''} created; "
                   "the ready-made pipelines and lost reasons are in place.")
