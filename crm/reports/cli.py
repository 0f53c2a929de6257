"""`flask reports rebuild-rollup`."""
import click
from flask import Flask

from crm.extensions import db


def register(app: Flask) -> None:
    @app.cli.group("reports")
    def reports():
        """The dashboard's figures."""

    @reports.command("rebuild-rollup")
    def rebuild_rollup():
        """Recount the dashboard's DM rollup from every message and its first-response counts
        from every response time (after a restore, or a load that went around the database's
        triggers). The dashboard keeps them current itself."""
        from crm.reports import response_rollup, rollup

        hours = rollup.rebuild()
        response_rollup.rebuild()
        db.session.commit()
        click.echo(f"{hours:,} hour{'s' if hours != 1 else ''} of DMs counted; "
                   "days are counted again as the dashboard asks for them.")
