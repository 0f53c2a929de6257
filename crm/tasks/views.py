"""Tasks: the Today page, creating tasks, and one-click complete / snooze."""
from datetime import datetime, time
from urllib.parse import quote

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from crm import policy
from crm.contacts.consent import may_contact, record_refusal
from crm.core.errors import Conflict, OutreachRefused, ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.core.links import RowUrl, local_path
from crm.core.timeutil import from_local, local, utcnow
from crm.core.viewer import me, viewer_timezone
from crm.extensions import db, htmx
from crm.tasks import queries, services
from crm.tasks.blueprint import bp
from crm.tasks.forms import SnoozeDateForm, assignee_choices, new_task_form


def fragment() -> bool:
    return bool(htmx and not htmx.boosted)


def _safe_next(default: str) -> str:
    return local_path(request.values.get("next"), default)


@bp.app_context_processor
def task_clock():
    # Rows mark overdue tasks; one clock per request keeps them consistent.
    return {"task_now": utcnow()}


class TaskRowLinks:
    """What every task row's forms and links share, built once per request: a list of 30
    tasks spent more on url_for and CSRF tokens than on the rest of its markup."""

    def __init__(self):
        self.csrf = generate_csrf()
        self.back = request.full_path if request.method == "GET" else ""
        self.complete = RowUrl("tasks.complete", "task_id")
        self.reopen = RowUrl("tasks.reopen", "task_id")
        self.snooze = RowUrl("tasks.snooze", "task_id")
        self.edit = RowUrl("tasks.edit", "task_id")
        self.contact = RowUrl("contacts.show", "contact_id")
        self.deal = RowUrl("pipeline.deal", "deal_id")
        # Formatted once for every row: the edit links' way back, and the first day a task
        # can be snoozed to (today, where the viewer is).
        self.back_query = f"?next={quote(self.back)}" if self.back else ""
        self.first_snooze_day = local(utcnow(), viewer_timezone()).strftime("%Y-%m-%d")

    def links_contact(self, task) -> bool:
        """Whether the row links to its contact: not to one the viewer may not see (a task
        given to them on a deal they own on someone else's contact)."""
        owner_id = (task.contact_owner_id if isinstance(task, queries.TaskRow)
                    else task.contact.owner_id)
        return policy.may_see_contact_of(me(), owner_id)


@bp.app_template_global()
def task_row_links() -> TaskRowLinks:
    if "task_row_links" not in g:
        g.task_row_links = TaskRowLinks()
    return g.task_row_links


def _due_at(form) -> datetime:
    naive = datetime.combine(form.due_on.data, form.due_time.data or time(9, 0))
    return from_local(naive, current_user.timezone)


def _section(form, scope: str, contact_id, deal_id):
    """The task section a contact page or a deal page shows (what an HTMX create answers)."""
    if scope == "deal" and deal_id:
        deal = policy.get_deal(current_user, deal_id)
        return render_template("tasks/_section.html", tasks=queries.open_tasks_for_deal(
            current_user, deal), task_form=form, section_id=f"deal-{deal.id}",
            may_contact=None, contact=deal.contact)
    contact = policy.get_contact(current_user, contact_id)
    return render_template("tasks/_section.html", tasks=queries.tasks_for_contact(
        current_user, contact), task_form=form, section_id=f"contact-{contact.id}",
        may_contact=may_contact(contact), contact=contact)


@bp.get("/today")
def today():
    """Today: overdue tasks, today's and the next two weeks' — in your time zone."""
    who = request.args.get("who", "me")
    lists, counts = _today_counts(who)
    ctx = dict(lists=lists, counts=counts,
               users=assignee_choices() if current_user.is_manager else [])
    if fragment() and htmx.target == "today-lists":
        return render_template("tasks/_lists.html", **ctx)
    return render_template("tasks/today.html", **ctx)


SECTION_TITLES = {"overdue": "Overdue", "today": "Today", "upcoming": "Next two weeks"}


@bp.get("/today/<section>")
def today_more(section: str):
    """The next rows of a Today section: appended in place by HTMX, or a page of its own."""
    if section not in SECTION_TITLES:
        abort(404)
    rows, more, who = queries.section_rows(me(), section, request.args.get("who", "me"),
                                           after=request.args.get("after"))
    ctx = dict(rows=rows, more=more, who=who, section=section, title=SECTION_TITLES[section])
    if fragment():
        return render_template("tasks/_more_rows.html", **ctx)
    return render_template("tasks/section.html", **ctx)


@bp.get("/today/counts")
def counts():
    """The overdue / due-today line of the Today page and its sections' counts (refreshed
    when a task changes)."""
    lists, figures = _today_counts(request.args.get("who", "me"))
    return render_template("tasks/_counts.html", lists=lists, counts=figures, oob=True)


def _today_counts(who: str):
    """Today's lists for `who`, and the header's figures: your own lists already counted your
    overdue and today's tasks (the same figures); another's need yours counted."""
    lists = queries.today_lists(me(), who)
    figures = ({"overdue": lists.counts["overdue"], "due_today": lists.counts["today"]}
               if lists.who == "me" else services.due_counts(current_user))
    return lists, figures


@bp.route("/tasks/new", methods=["GET", "POST"])
def new():
    """Create a follow-up task (from the Today page, a contact or a deal)."""
    if request.method == "GET":
        contact_id, deal_id = int_or_none(request.args.get("contact_id")), int_or_none(request.args.get("deal_id"))
        deal = policy.get_deal(current_user, deal_id) if deal_id else None
        contact = policy.get_contact(current_user, contact_id) if contact_id else (
            deal.contact if deal and policy.can_view_contact(current_user, deal.contact)
            else None)
        form = new_task_form(contact=contact, deal=deal)
        if contact is None and fragment():
            # The Today page's "New task" button: the form, in place.
            return render_template("tasks/_today_form.html", task_form=form, focus_title=True)
        permission = None
        if contact is not None and deal is None:
            permission = may_contact(contact)
            if fragment():
                # The contact page's "New task" button: the inline form, in place.
                return render_template("tasks/_quick_form.html", task_form=form, focus_title=True,
                                       section_id=f"contact-{contact.id}",
                                       may_contact=permission, contact=contact)
            form.next.data = url_for("contacts.show", contact_id=contact.id)
        return render_template("tasks/new.html", form=form, contact=contact, deal=deal,
                               may_contact=permission)
    form = new_task_form(formdata=request.form)
    scope = form.scope.data or ""
    if form.validate():
        try:
            task = services.create_task(current_user, {
                "title": form.title.data, "due_at": _due_at(form), "notes": form.notes.data,
                "assignee_id": form.assignee_id.data, "contact_id": form.contact_id.data,
                "deal_id": form.deal_id.data, "is_outreach": form.is_outreach.data})
        except OutreachRefused as e:
            _refused_in_place(e)
            form.is_outreach.errors = [e.message]
        except ServiceError as e:
            db.session.rollback()
            if e.field in ("contact_id", "deal_id"):   # hidden fields: say it above the form
                form.form_errors.append(e.message)
            else:
                apply_service_error(form, e)
        else:
            if fragment() and scope in ("contact", "deal"):
                fresh = new_task_form(contact=task.contact, deal=task.deal if scope == "deal" else None)
                html = _section(fresh, scope, task.contact_id, task.deal_id)
                return html, 200, {"HX-Trigger": "taskChanged"}
            flash(f"Task “{task.title}” added.", "success")
            return redirect(_safe_next(url_for("tasks.today")))
    if fragment() and scope in ("contact", "deal"):
        return _section(form, scope, form.contact_id.data, form.deal_id.data)
    return render_template("tasks/new.html", form=form, contact=None, deal=None)


def _refused_in_place(e: OutreachRefused) -> None:
    """An HTMX request shows the consent gate's refusal where the user acted (the form, the
    row) and records it all the same; a page re-raises it for the app's refusal page."""
    if not fragment():
        raise e
    db.session.rollback()
    record_refusal(current_user, e.contact_id, e.action, e.message)   # the request commits it


def _row(task, status=200, message=None, snooze_error=None):
    html = render_template("tasks/_task.html", task=task, message=message,
                           snooze_error=snooze_error)
    headers = {"HX-Trigger": "taskChanged"}
    if status == 409:    # the row in its current state replaces the stale one (static/js/app.js)
        headers["HX-Retarget"] = f"#task-{task.id}"
    return html, status, headers


def _task_action(task_id, action):
    task = policy.get_task(current_user, task_id)
    status, snooze_error = 200, None
    try:
        message, category = action(task), "success"
    except OutreachRefused as e:
        _refused_in_place(e)
        message, category = e.message, "error"
    except ServiceError as e:
        db.session.rollback()
        message, category = e.message, "error"
        status = 409 if isinstance(e, Conflict) else 200
        snooze_error = e.message if e.field == "until_date" else None
    if fragment():
        return _row(task, status=status, message=None if snooze_error else message,
                    snooze_error=snooze_error)
    if message:
        flash(message, category)
    return redirect(_safe_next(url_for("tasks.today")))


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id):
    """Mark a task done (one click)."""
    return _task_action(task_id, lambda t: services.complete_task(
        current_user, t, expected_version=int_or_none(request.form.get("version"))) and
        f"Done: {t.title}.")


@bp.post("/tasks/<int:task_id>/reopen")
def reopen(task_id):
    """Undo: open a completed task again."""
    return _task_action(task_id, lambda t: services.reopen_task(current_user, t) and
                        f"Reopened: {t.title}.")


@bp.post("/tasks/<int:task_id>/snooze")
def snooze(task_id):
    """Snooze a task for 1 day, 3 days, until next week (one click) or to a chosen date."""
    choice = request.form.get("until", "")
    if choice not in (*services.SNOOZES, "date"):
        abort(400)
    version = int_or_none(request.form.get("version"))

    def run(task):
        if choice == "date":
            form = SnoozeDateForm(meta={"csrf": False})
            day = form.until_date.data if form.until_date.validate(form) else None
            due = services.snooze_task_until(current_user, task, day, expected_version=version)
        else:
            due = services.snooze_task(current_user, task, choice, expected_version=version)
        return f"Snoozed until {local(due, current_user.timezone):%a %d %b, %H:%M}."
    return _task_action(task_id, run)
