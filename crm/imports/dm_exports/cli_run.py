"""The command-line import: open, check the answers the preview would ask, import or show."""
from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import func, select

from crm import jobs
from crm.accounts.models import User
from crm.core.errors import ServiceError
from crm.extensions import db
from crm.imports import runs
from crm.imports.dm_exports import (matching, plan as dm_plan, services as dm_service,
                                    stream as dm_stream, write as dm_write)
from crm.imports.models import ImportRun
from crm.imports.dm_exports.parsers import ExportError, open_export
from crm.imports.dm_exports.parsers.base import normalise_identity

PARALLEL_FROM = dm_stream.PARALLEL_FROM


class ImportFailed(Exception):
    """Why the command wrote nothing; str() is the message for the user."""


def default_actor():
    """Who runs an import without --owner: the first active admin."""
    return db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))
                              .order_by(User.id).limit(1)).first()


def _actor(owner_email: str | None) -> User:
    if owner_email:
        user = db.session.scalars(select(User).where(
            func.lower(User.email) == owner_email.strip().lower())).first()
        if user is None or not user.active:
            raise ImportFailed(f"no active user with the email {owner_email}")
        return user
    user = default_actor()
    if user is None:
        raise ImportFailed("no admin user yet: create one with `flask users create --role admin`, "
                           "or pass --owner EMAIL")
    return user


def _me(summary: dict, me: str | None) -> str:
    """Who the owner is: --me as a display name, an @handle or an account id. Where the
    export names the owner (X account.js, Instagram personal_information), any of those
    names means the account it states, kept as the export's own id for it."""
    if me:
        key = normalise_identity(me)
        if summary["detected_me"] and key in {normalise_identity(a)
                                              for a in summary["me_aliases"] if a}:
            return summary["detected_me"]
        for s in summary["threads"]:
            for p in matching.people_of(s):
                if key in p.identities():
                    return me
        raise ImportFailed(f"nobody called {me!r} is in this export; people in it: "
                           + ", ".join(c[0] for c in summary["candidates"][:8]))
    if summary["detected_me"]:
        return summary["detected_me"]
    raise ImportFailed("this export does not say which account is yours; pass --me with one "
                       "of: " + ", ".join(c[0] for c in summary["candidates"][:8]))


def run_cli_import(path, *, owner_email=None, me=None, dry_run=False, day_first=None,
                   tz="UTC", skip_groups=False, workers=None, progress=None, report=None,
                   job_id: int | None = None) -> dict:
    """Import (or with dry_run only count) an export; returns the summary for --json."""
    actor = _actor(owner_email)
    try:
        tz = dm_service.check_zone(tz)
    except ServiceError as e:
        raise ImportFailed(e.message) from None
    opened = time.perf_counter()
    try:
        source = open_export(path, tz=tz, **dm_service.limits(), look_beside=True,
                             scan_workers=2 if workers is None else workers)
    except ExportError as e:
        raise ImportFailed(f"{e} Nothing was imported.") from None
    except ValueError as e:
        raise ImportFailed(str(e)) from None
    with source:
        reading = round(time.perf_counter() - opened, 2)
        summary = dm_plan.summarise(source)
        if not summary["threads"]:
            raise ImportFailed(f"{Path(path).name}: no messages found in this export.")
        chosen = _me(summary, me)
        if summary["ambiguous_dates"] and day_first is None:
            raise ImportFailed("the WhatsApp dates could be day/month or month/day: pass "
                               "--day-first or --month-first")
        owner_id = actor.id if owner_email else None
        choices = {s["key"]: {"skip": True} for s in summary["threads"]
                   if skip_groups and s["group"]}
        options = {"tz": tz, "me": chosen, "me_aliases": summary["me_aliases"],
                   "detected_me": summary["detected_me"], "day_first": day_first,
                   "choices": choices, "new_kind": "contact"}
        if job_id is not None:
            options["job_id"] = job_id     # the job that writes it (crm.imports.dm_exports.jobs)
        if report:
            who = dm_plan.display_me(chosen, summary["threads"])
            report(f"{source.platform} export ({source.layout}): {len(summary['threads']):,} "
                   f"conversations, {summary['messages']:,} messages; you are {who}.")
        run = ImportRun(kind="dm", status="running", platform=source.platform,
                        layout=source.layout, filename=Path(path).name[:255],
                        created_by_id=actor.id, owner_id=owner_id,
                        options=options,
                        progress_total=summary["messages"])
        if workers is None:
            workers = 2 if dm_stream.can_fork() and summary["messages"] >= PARALLEL_FROM else 0
        if dry_run:
            plans = dm_plan.plan(actor, source.platform, options, summary["threads"])
            outcome = dm_write.write_import(actor, run, source, plans, options, dry_run=True,
                                            progress=progress, workers=workers)
            db.session.rollback()
            return _summary(outcome.counts, outcome.problems, source, None, dry_run=True,
                            seconds={"reading": reading, **outcome.seconds})
        db.session.add(run)
        db.session.commit()
        run_id = run.id
        try:
            outcome = dm_service.execute(actor, run, source, progress=progress, workers=workers)
            jobs.fence()    # in a job: still this attempt's run, so the commit writes it once
            db.session.commit()
        except (ExportError, ServiceError) as e:   # a malformed file or message, named
            db.session.rollback()
            run = db.session.get(ImportRun, run_id)
            message = e.message if isinstance(e, ServiceError) else str(e)
            runs.fail(run, f"{message} Nothing was imported.")
            db.session.commit()
            raise ImportFailed(f"{e} Nothing was imported.") from None
        # Any other error rolls back and is the job's: logged in full, the run marked failed
        # (crm.imports.jobs), the user told without internals.
        return _summary(run.counts, run.problems, source, run.id,
                        seconds={"reading": reading, **outcome.seconds})


def _summary(counts: dict, problems: list, source, run_id, dry_run=False, seconds=None) -> dict:
    return {"threads": counts["threads"], "messages_added": counts["messages_added"],
            "duplicates_skipped": counts["duplicates_skipped"],
            "contacts_created": counts["contacts_created"],
            "contacts_matched": counts["contacts_matched"], "problems": list(problems),
            "platform": source.platform, "layout": source.layout, "import_id": run_id,
            "dry_run": dry_run, "seconds": seconds or {}}
