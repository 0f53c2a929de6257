"""DM-export runs, step by step: upload → read → review (me, dates, threads) → import."""
from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app

from crm import policy
from crm.accounts.models import User
from crm.audit import services as audit
from crm.contacts.models import KINDS, PLATFORM_LABELS
from crm.core.errors import ServiceError, ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm import jobs
from crm.imports import storage, versions
from crm.imports.dm_exports import matching, plan as dm_plan, stream as dm_stream, write as dm_write
from crm.imports.runs import check_owner, fail
from crm.jobs import queue
from crm.imports.models import ImportRun
from crm.imports.dm_exports.parsers import ExportError, open_export

MAX_PROBLEMS = 200
TOUCHED_LISTED = 50


def limits() -> dict:
    """Zip limits from the configuration (IMPORT_MAX_UNCOMPRESSED_MB, IMPORT_MAX_RATIO)."""
    cfg = current_app.config
    return {"max_total_bytes": int(float(cfg.get("IMPORT_MAX_UNCOMPRESSED_MB", 4096)) * 1024 * 1024),
            "max_ratio": float(cfg.get("IMPORT_MAX_RATIO", 200)),
            "max_members": int(cfg.get("IMPORT_MAX_MEMBERS", 200_000))}


def check_zone(tz: str | None) -> str:
    tz = (tz or "UTC").strip()
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(f"“{tz}” is not a time zone (try Europe/Berlin or "
                               "America/New_York).", field="tz") from None
    return tz


def start_upload(actor, files, *, tz: str = "UTC", owner_id: int | None = None,
                 new_kind: str = "contact") -> ImportRun:
    """Keep the uploaded export for reading; the run starts as "analysing"."""
    tz = check_zone(tz)
    if new_kind not in KINDS:
        raise ValidationFailed("Choose contact, influencer or lead.", field="new_kind")
    run = ImportRun(kind="dm", status="analysing", created_by_id=actor.id,
                    owner_id=check_owner(actor, owner_id),
                    options={"tz": tz, "new_kind": new_kind, "choices": {}})
    db.session.add(run)
    db.session.flush()
    try:
        path, label = storage.save_uploads(run.id, files)
    except Exception:
        storage.remove(run)
        raise
    run.stored_path, run.filename = str(path), label[:255]
    return run


def analyse(run_id: int) -> None:
    """Job: read the stored export once and keep the summary the preview shows."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "analysing":
        return
    try:
        with open_export(run.stored_path, tz=run.options.get("tz", "UTC"), **limits()) as src:
            summary = dm_plan.summarise(src)
            run.platform, run.layout = src.platform, src.layout
    except ExportError as e:
        fail(run, _named(run, e))
        versions.commit_unless_changed(run_id)
        return
    # Any other error is the job's: logged in full, the run marked failed
    # (crm.imports.jobs, crm.imports.dm_exports.jobs).
    if not summary["threads"] and not summary["erased_skipped"]:
        fail(run, f"{run.filename}: no messages found in this export.")
    else:
        run.options = {**run.options, **summary, **_me_as_last_time(run, summary)}
        run.progress_total = summary["messages"]
        run.status = "previewed"
    versions.commit_unless_changed(run_id)   # cancelled while it was read: stays cancelled


def _me_as_last_time(run: ImportRun, summary: dict) -> dict:
    """Who the uploader was in their last export of this platform, when the new export does
    not say and that person is in it: the same export uploaded again asks nothing twice."""
    if summary["detected_me"] or run.created_by_id is None:
        return {}
    in_export = {c[0] for c in summary["candidates"]}
    earlier = db.session.scalars(
        db.select(ImportRun).where(ImportRun.created_by_id == run.created_by_id,
                                   ImportRun.kind == "dm", ImportRun.platform == run.platform,
                                   ImportRun.id != run.id)
        .order_by(ImportRun.created_at.desc()).limit(20))
    for before in earlier:
        me = (before.options or {}).get("me")
        if me and me in in_export:
            return {"me": me, "me_remembered": True}
    return {}


def _named(run: ImportRun, e: ExportError) -> str:
    """ExportError names the file; a folder of several uploaded files gets its label back."""
    if run.stored_path and e.filename == "upload":
        return f"{run.filename}: {e.reason}"
    return str(e)


def _editable(run: ImportRun) -> None:
    if run.kind != "dm" or run.status != "previewed":
        raise ValidationFailed("This import is no longer waiting for your review.")


def choose_me(actor, run: ImportRun, me: str, *, expected_version: int | None = None) -> None:
    """Which participant is the export's owner (their messages become "sent")."""
    versions.expect(run, expected_version)
    _editable(run)
    names = {c[0] for c in run.options.get("candidates", [])}
    if run.options.get("detected_me"):
        names.add(run.options["detected_me"])
    if me not in names:
        raise ValidationFailed("Choose yourself from the people in this export.", field="me")
    run.options = {**{k: v for k, v in run.options.items() if k != "me_remembered"}, "me": me}
    versions.save(run)


def choose_date_order(actor, run: ImportRun, day_first: bool, *,
                      expected_version: int | None = None) -> None:
    versions.expect(run, expected_version)
    _editable(run)
    run.options = {**run.options, "day_first": bool(day_first)}
    versions.save(run)


def save_choices(actor, run: ImportRun, choices: dict[int, dict], *,
                 expected_version: int | None = None) -> None:
    """Per thread (by position in the preview): skip it, or attach it to a chosen contact."""
    versions.expect(run, expected_version)
    _editable(run)
    threads = run.options["threads"]
    saved = dict(run.options.get("choices") or {})
    for index, choice in choices.items():
        if not 0 <= index < len(threads):
            continue
        key = threads[index]["key"]
        contact_id = choice.get("contact_id")
        if contact_id:
            contact = policy.get_contact(actor, contact_id)  # 404 when out of scope
            contact_id = contact.id
        saved[key] = {"skip": bool(choice.get("skip")), "contact_id": contact_id or None}
    run.options = {**run.options, "choices": saved}
    versions.save(run)


def plans_for(actor, run: ImportRun) -> list[dm_plan.ThreadPlan]:
    return dm_plan.plan(actor, run.platform, run.options)


def ready_problems(run: ImportRun) -> list[str]:
    """What still has to be answered before the import can start."""
    out = []
    if not dm_plan.chosen_me(run.options):
        out.append("Choose which person in the export is you.")
    if run.options.get("ambiguous_dates") and run.options.get("day_first") is None:
        out.append("Choose how the dates in the WhatsApp chat are written.")
    return out


def confirm(actor, run: ImportRun) -> None:
    """Start the import as reviewed; the view commits and starts the job."""
    _editable(run)
    missing = ready_problems(run)
    if missing:
        raise ValidationFailed(" ".join(missing))
    if not any(p.action == "import" for p in plans_for(actor, run)):
        raise ValidationFailed("Every thread is skipped: there is nothing to import.")
    run.status = "running"
    run.progress_done = 0
    versions.save(run)


def cancel(actor, run: ImportRun, *, expected_version: int | None = None) -> None:
    """Throw a preview away (the stored upload is deleted)."""
    versions.expect(run, expected_version)
    if run.status not in ("previewed", "analysing"):
        raise ValidationFailed("Only an import that has not started can be cancelled.")
    run.status = "cancelled"
    run.finished_at = utcnow()
    versions.save(run)
    storage.remove(run)


def execute(actor, run: ImportRun, source, *, progress=None, workers: int = 0):
    """Plan against the current contacts and write everything; the caller commits."""
    summaries = [dm_plan.summarise_thread(t) for t in source.threads()]
    plans = dm_plan.plan(actor, source.platform, run.options, summaries)
    outcome = dm_write.write_import(
        actor, run, source, plans, run.options, progress=progress, workers=workers,
        bulk_min_rows=int(current_app.config.get("IMPORT_BULK_MIN_ROWS", 100_000)),
        cache_mb=int(current_app.config.get("IMPORT_SQLITE_CACHE_MB", 256)))
    run.counts = outcome.counts
    run.problems = outcome.problems[:MAX_PROBLEMS]
    run.options = {**run.options, "touched": outcome.conversation_ids[:TOUCHED_LISTED]}
    run.progress_done = run.progress_total = sum(p.summary["count"] for p in plans
                                                 if p.action == "import")
    run.status = "done"
    run.finished_at = utcnow()
    c = outcome.counts
    label = PLATFORM_LABELS.get(run.platform, run.platform or "DM")
    audit.record(actor, "import", run,
                 summary=f"{label} export {run.filename}: {c['messages_added']:,} messages added, "
                         f"{c['duplicates_skipped']:,} already there, "
                         f"{c['contacts_created']:,} contacts created",
                 changes={"counts": c})
    return outcome


def run_import(run_id: int) -> None:
    """Job: the confirmed import, in one transaction; a failure writes nothing but the reason."""
    run = db.session.get(ImportRun, run_id)
    if run is None or run.status != "running":
        return
    actor = db.session.get(User, run.created_by_id)

    def progress(done, total, phase):
        storage.write_progress(run_id, done, total, phase)
        jobs.report_progress(done, total, phase)

    # In a worker process a big export is read by forked readers while this one writes;
    # where jobs run in the enqueuing process (the tests), it is read in-line.
    workers = 2 if (dm_stream.can_fork() and queue.backend() != "immediate"
                    and run.progress_total >= dm_stream.PARALLEL_FROM) else 0
    try:
        progress(0, run.progress_total, "reading")
        with open_export(run.stored_path, tz=run.options.get("tz", "UTC"), **limits(),
                         scan_workers=workers) as src:
            execute(actor, run, src, progress=progress, workers=workers)
            jobs.fence()    # still this attempt's run: then the commit writes it once
            db.session.commit()
    except (ExportError, ServiceError) as e:   # a malformed file or message, named
        db.session.rollback()
        run = db.session.get(ImportRun, run_id)
        message = e.message if isinstance(e, ServiceError) else _named(run, e)
        fail(run, f"{message} Nothing was imported.")
        db.session.commit()
        return
    # Any other error is the job's: rolled back, logged in full, the run marked failed.
    storage.remove(run)
    db.session.commit()


def preview_rows(actor, run: ImportRun, plans, show: str):
    """The threads the preview lists, with their position (form field index)."""
    index = {s["key"]: i for i, s in enumerate(run.options["threads"])}
    filters = {
        "check": lambda p: p.action == "import" and p.match.how == "name",
        "new": lambda p: p.creates_contact,
        "groups": lambda p: p.is_group,
        "skipped": lambda p: p.action == "skip",
    }
    keep = filters.get(show, lambda p: True)
    return [(index[p.key], p) for p in plans if keep(p)]


def people_line(run: ImportRun, summary: dict) -> list:
    """The other people in a thread (not me), for the preview."""
    mine = matching.me_keys(dm_plan.chosen_me(run.options), run.options.get("me_aliases") or [])
    return matching.counterparts(summary, mine)
