"""What every `flask` command shares: a failure is one clear line, not a traceback."""
import functools

import click
from flask import Flask
from sqlalchemy.exc import OperationalError, ProgrammingError

from crm.core.errors import ServiceError

_PASS_THROUGH = (click.ClickException, click.Abort, click.exceptions.Exit, SystemExit,
                 KeyboardInterrupt)


def one_line_errors(app: Flask) -> None:
    """Wrap every command of `app.cli` (groups included) so that a refusal by a service, a
    database that is not ready or any other failure prints `Error: …` on one line and exits
    with status 1. FLASK_DEBUG=1 shows the traceback instead."""

    def run_guarded(callback):
        @functools.wraps(callback)
        def run(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except _PASS_THROUGH:
                raise
            except ServiceError as e:
                raise click.ClickException(e.message) from None
            except (OperationalError, ProgrammingError) as e:
                if app.debug:
                    raise
                raise click.ClickException(
                    f"the database refused: {str(e.orig).splitlines()[0]} "
                    "(is it migrated? run `flask --app wsgi db upgrade`)") from None
            except Exception as e:
                if app.debug:
                    raise
                raise click.ClickException(f"{type(e).__name__}: {e}".splitlines()[0]) from None
        return run

    def guard(command: click.Command) -> None:
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                guard(sub)
        if command.callback is not None:
            command.callback = run_guarded(command.callback)

    for command in app.cli.commands.values():
        guard(command)
