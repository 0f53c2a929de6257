"""`flask demo load`."""
import importlib
import importlib.util
import random
from dataclasses import dataclass, field

import click
from flask import Flask
from sqlalchemy import func, select

from crm.accounts.models import User
from crm.demo import people
from crm.extensions import db
from crm.webhooks import outbox

# Features that add their own demo records, in order (each has demo.load(ctx)).
FEATURE_DEMOS = ("dm_templates", "campaigns", "conversations", "pipeline", "tasks")


@dataclass
class DemoContext:
    rng: random.Random
    users: dict = field(default_factory=dict)     # role -> [User]
    contacts: list = field(default_factory=list)


def register(app: Flask) -> None:
    @app.cli.group("demo")
    def demo():
        """Demo data."""

    @demo.command("load")
    @click.option("--if-empty", is_flag=True, help="Do nothing when users already exist.")
    @click.option("--contacts", default=300, show_default=True)
    @click.option("--seed", default=7, show_default=True)
    def load(if_empty, contacts, seed):
        """Load a demo workspace: 4 users, ~300 contacts with handles, DMs, deals, tasks."""

        if if_empty and db.session.scalar(select(func.count()).select_from(User)):
            click.echo("Data already present; demo not loaded.")
            return
        ctx = DemoContext(rng=random.Random(seed))
        with outbox.history():     # made-up records are not news for webhook receivers
            people.load(ctx, contacts)
            for name in FEATURE_DEMOS:
                if importlib.util.find_spec(f"crm.{name}.demo"):
                    importlib.import_module(f"crm.{name}.demo").load(ctx)
        db.session.commit()
        click.echo(f"Demo loaded: {len(ctx.contacts)} contacts.")
