"""`flask reports rebuild-rollup`."""
import click
from flask import Flask

from crm.conversations import reply_state
from crm.core.cache import changed
from crm.extensions import db
from crm.reports import response_rollup, rollup


def register(app: Flask) -> None:
    @app.cli.group("reports")
    def reports():
        """The dashboard's figures."""

    @reports.command("rebuild-rollup")
    def rebuild_rollup():
        """Recount the dashboard's DM rollup from every message and its first-response counts
        from every response time, each contact's last outbound DM and each follow-up's answer
        (after a restore, or a load that went around the app). The dashboard
        keeps them current itself."""
        hours = rollup.rebuild()
        response_rollup.rebuild()
        reply_state.recount_copies()
        # Every process's remembered figures are recomputed on their next load.
        changed(db.session, "messages", "response_times", "conversations", "contacts", "tasks")
        db.session.commit()
        click.echo(f"{hours:,} hour{'s' if hours != 1 else ''} of DMs counted; "
                   "days are counted again as the dashboard asks for them.")
