"""The review of a DM export before anything is written: me, dates, threads; then confirm."""
import re
from datetime import date, datetime

from flask import flash, redirect, request, url_for
from flask_login import current_user

from crm import policy
from crm.contacts.models import Contact
from crm.core.errors import ServiceError, ValidationFailed
from crm.core.forms import int_or_none
from crm.core.timeutil import from_local, local
from crm.extensions import db
from crm.imports import jobs
from crm.imports.dm_exports import matching, plan as dm_plan, services as dm_service
from crm.imports.blueprint import bp
from crm.imports.forms import posted_version

PAGE = 100
SHOWS = {"": "All", "check": "Matched by name", "new": "New contacts", "groups": "Group chats",
         "skipped": "Skipped"}
CHOICE_FIELD = re.compile(r"t-(\d+)-action")


def _dt(iso: str | None):
    return datetime.fromisoformat(iso) if iso else None


def _dates_as_chosen(run):
    """A thread's first and last dates, read in the date order the user chose.

    The summary was read day first; an ambiguous chat read month first has day and month
    swapped on the phone's clock (every day in it is 12 or less, so that is always a date).
    """
    tz = run.options.get("tz")
    month_first = run.options.get("day_first") is False

    def dates(s):
        first, last = _dt(s["first"]), _dt(s["last"])
        if month_first and s.get("day_first") is None:
            first, last = (from_local(_swap(local(d, tz).replace(tzinfo=None)), tz)
                           for d in (first, last))
        return first, last
    return dates


def _swap(d: datetime) -> datetime:
    return d.replace(month=d.day, day=d.month)


def preview_context(run) -> dict:
    o = run.options
    me = dm_plan.chosen_me(o)
    ctx = {"run": run, "o": o, "me": me,
           "missing": dm_service.ready_problems(run), "shows": SHOWS, "dt": _dt,
           "me_name": dm_plan.display_me(me, o["threads"]) if me else None,
           "new_name": lambda p: matching.display_name(run.platform, p),
           "dates": _dates_as_chosen(run),
           "date_example": _date_example(run) if o.get("ambiguous_dates") else None}
    if not me:
        return ctx
    plans = dm_service.plans_for(current_user, run)
    show = request.args.get("show", "")
    show = show if show in SHOWS else ""
    rows = dm_service.preview_rows(current_user, run, plans, show)
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(1, request.args.get("page", 1, type=int)), pages)
    shown = rows[(page - 1) * PAGE:page * PAGE]
    ctx.update(totals=dm_plan.totals(plans), show=show, page=page, pages=pages,
               listed=len(rows),
               rows=[(i, p, dm_service.people_line(run, p.summary)) for i, p in shown])
    return ctx


def _date_example(run) -> dict | None:
    """One ambiguous date read both ways, for the day/month question."""
    for s in run.options["threads"]:
        if s["day_first"] is None and s["first"]:
            when = local(_dt(s["first"]), run.options.get("tz"))
            if when.day > 12:
                continue
            return {"written": f"{when:%d/%m/%Y}", "day_first": when.date(),
                    "month_first": date(when.year, when.day, when.month), "title": s["title"]}
    return None


def _back(run, form=None):
    form = form or request.form
    args = {k: form.get(k) for k in ("show", "page") if form.get(k)}
    return redirect(url_for("imports.show", run_id=run.id, **args) + "#threads")


@bp.post("/imports/<int:run_id>/me")
def choose_me(run_id):
    """Which person in the export is you."""
    run = policy.get_import(current_user, run_id, kind="dm")
    try:
        dm_service.choose_me(current_user, run, request.form.get("me", ""),
                             expected_version=posted_version())
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("imports.show", run_id=run.id))


@bp.post("/imports/<int:run_id>/dates")
def choose_dates(run_id):
    """How the WhatsApp chat writes dates: day first or month first."""
    run = policy.get_import(current_user, run_id, kind="dm")
    order = request.form.get("order")
    try:
        if order not in ("day", "month"):
            raise ValidationFailed("Choose day first or month first.")
        dm_service.choose_date_order(current_user, run, order == "day",
                                     expected_version=posted_version())
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("imports.show", run_id=run.id))


def choices_from(run, form) -> dict[int, dict]:
    """Per-thread choices posted by the preview (only the threads on that page)."""
    out = {}
    for field in form:
        m = CHOICE_FIELD.fullmatch(field)
        if not m:
            continue
        i = int(m.group(1))
        action = form.get(field)
        raw_id = (form.get(f"t-{i}-contact_id") or "").strip()
        name = (form.get(f"t-{i}-contact_name") or "").strip()
        contact_id = None
        if action != "auto":
            if name:
                picked_id = int_or_none(raw_id)
                picked = db.session.get(Contact, picked_id) if picked_id is not None else None
                if picked is not None and picked.name == name:
                    contact_id = picked.id
                else:
                    found = matching.find_by_exact_name(current_user, name)
                    if len(found) != 1:
                        raise ValidationFailed(
                            f"No single contact is called “{name}”: pick one from the "
                            "suggestions (type a few letters), or check the spelling.")
                    contact_id = found[0].id
            elif raw_id.isdigit():
                contact_id = int(raw_id)
        out[i] = {"skip": action == "skip", "contact_id": contact_id}
    return out


@bp.post("/imports/<int:run_id>/threads")
def save_threads(run_id):
    """Keep the choices made on this page of threads."""
    run = policy.get_import(current_user, run_id, kind="dm")
    try:
        dm_service.save_choices(current_user, run, choices_from(run, request.form),
                                expected_version=posted_version())
        flash("Choices saved. Nothing is imported until you press Import.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return _back(run)


def confirm_dm(run):
    """Save this page's choices and start the import as reviewed."""
    try:
        dm_service.save_choices(current_user, run, choices_from(run, request.form),
                                expected_version=posted_version())
        jobs.check_limits(current_user)
        dm_service.confirm(current_user, run)
        jobs.start(current_user, run, "imports.write_dm")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
        return _back(run)
    return redirect(url_for("imports.show", run_id=run.id))
