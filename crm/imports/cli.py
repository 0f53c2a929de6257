"""`flask import-dms PATH`: import a DM export from the command line (for big ones)."""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click
from flask import Flask

from crm.extensions import db
from crm.imports.dm_exports.jobs import enqueue_cli_import
from crm.jobs import runner
from crm.jobs.models import Job


def register(app: Flask) -> None:
    @app.cli.command("import-dms")
    @click.argument("path", type=click.Path(exists=False))
    @click.option("--owner", "owner_email", help="Email of the user the history belongs to "
                                                 "(new contacts are theirs; only contacts they "
                                                 "may see are matched). Default: the first admin.")
    @click.option("--me", help="Your name, handle or account id in the export, when the export "
                               "does not say.")
    @click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
    @click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
    @click.option("--day-first/--month-first", "day_first", default=None,
                  help="WhatsApp date order, when the chat does not show it.")
    @click.option("--tz", default="UTC", show_default=True,
                  help="The phone's time zone (WhatsApp and TikTok exports do not say).")
    @click.option("--skip-groups", is_flag=True, help="Leave group chats out.")
    @click.option("--workers", type=int, default=None,
                  help="Processes reading the export when it is opened and while the "
                       "database is written (default: 2 for big exports where the system "
                       "allows it; 0 reads in this process).")
    @click.option("--wait/--no-wait", default=True, show_default=True,
                  help="Wait for a worker to finish the import and print its summary.")
    def import_dms(path, owner_email, me, dry_run, as_json, day_first, tz, skip_groups, workers,
                   wait):
        """Import DM history from an Instagram, Facebook, X, LinkedIn, WhatsApp or TikTok export
        (a job for a worker: `make run` or `flask jobs worker` runs it)."""
        job_id = enqueue_cli_import(
            str(Path(path).resolve()), owner_email=owner_email, me=me, dry_run=dry_run,
            day_first=day_first, tz=tz, skip_groups=skip_groups, workers=workers)
        if not wait:
            click.echo(f"Queued as job #{job_id}; /admin/jobs shows how it goes.")
            return
        job = _wait_for(job_id, _progress_printer())
        tty = sys.stderr.isatty()
        if tty:
            click.echo("", err=True)  # end the progress line
        if job.status != "done":
            if as_json:
                click.echo(json.dumps({"error": job.error, "threads": 0, "messages_added": 0,
                                       "duplicates_skipped": 0, "contacts_created": 0,
                                       "contacts_matched": 0, "problems": [job.error]}))
            else:
                click.echo(f"Error: {job.error}", err=True)
            sys.exit(1)
        summary = dict(job.result)
        notes = summary.pop("notes", [])
        if as_json:
            click.echo(json.dumps(summary, ensure_ascii=False))
        else:
            for line in notes:
                click.echo(line)
            _print_summary(summary)


def _wait_for(job_id: int, show):
    """Poll the job until it has finished, showing its progress."""

    announced = False
    while True:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        if job.status in ("done", "failed"):
            break
        live = runner.progress_of(job_id)
        if live:
            show(live["done"], live["total"], live["phase"])
        elif job.status == "queued" and not announced:
            click.echo(f"Queued as job #{job_id}; waiting for a worker "
                       "(`make run` or `flask jobs worker` runs one)…", err=True)
            announced = True
        db.session.rollback()
        time.sleep(0.25)
    if job.status == "done":
        n = job.result["messages_added"] + job.result["duplicates_skipped"]
        show(n, n, "messages")
    return job


def _progress_printer():
    """Progress on stderr: a line rewritten in place on a terminal, else one line per 10%."""
    tty = sys.stderr.isatty()
    state = {"at": 0.0, "tenth": -1}
    words = {"messages": "messages", "indexes": "messages · rebuilding indexes",
             "reply state": "messages · reply state and response times",
             "contacts": "messages · creating contacts and conversations first"}

    def show(done, total, phase):
        now = time.monotonic()
        percent = int(done * 100 / total) if total else 100
        line = f"  {done:,} / {total:,} {words.get(phase, phase)} ({percent}%)"
        if tty:
            if now - state["at"] >= 0.2 or phase != "messages" or done == total:
                state["at"] = now
                click.echo("\r" + line.ljust(72), nl=False, err=True)
        elif percent // 10 != state["tenth"] or phase != "messages":
            state["tenth"] = percent // 10
            click.echo(line, err=True)
    return show


def _print_summary(s: dict) -> None:
    what = "Would add" if s.get("dry_run") else "Added"
    click.echo(f"{what} {s['messages_added']:,} messages in {s['threads']:,} conversations "
               f"({s['duplicates_skipped']:,} already there); contacts: "
               f"{s['contacts_created']:,} new, {s['contacts_matched']:,} existing.")
    if s.get("dry_run"):
        click.echo("Dry run: nothing was written.")
    for problem in s["problems"]:
        click.echo(f"  ! {problem}")
    if s.get("seconds"):
        click.echo("Time: " + ", ".join(f"{k.replace('_', ' ')} {v:.1f} s"
                                        for k, v in s["seconds"].items()))
