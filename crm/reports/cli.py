"""`flask reports rebuild-rollup`."""
import click
from flask import Flask

from crm.contacts import dm_counts, owner_copies
from crm.conversations import reply_state
from crm.core.cache import changed, clear
from crm.extensions import db


def register(app: Flask) -> None:
    @app.cli.group("reports")
    def reports():
        """The dashboard's figures."""

    @reports.command("rebuild-rollup")
    def rebuild_rollup():
        """Recount the dashboard's DM counts per hour and first-response counts per day from
        every message and response time, each contact's last outbound DM, each follow-up's
        answer and each deal's and conversation's copy of its contact's owner (after a
        restore, or a load that went around the app), and forget everything
        remembered (the figures, the settings, the webhook endpoints). The services that
        write DMs keep them current themselves."""
        owner_copies.recount()
        dm_counts.recount()
        reply_state.recount_copies()
        # Every process's remembered figures are recomputed on their next load.
        changed(db.session, "messages", "response_times", "conversations", "contacts", "tasks",
                "deals")
        db.session.commit()
        # What else was remembered may have been changed by hand too: nothing is kept. After
        # the commit, so that nothing computed from the data before it can be kept again.
        clear()
        hours = len({key[0] for key in dm_counts.stored_hours()})
        click.echo(f"{hours:,} hour{'s' if hours != 1 else ''} of DMs counted.")
