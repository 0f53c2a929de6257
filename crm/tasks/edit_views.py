"""Editing a task in place: its form (in the row it replaces, or a page of its own without
JavaScript), saving it, giving it to someone else, deleting it."""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import policy
from crm.core.errors import Conflict, OutreachRefused, ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.extensions import db
from crm.tasks import services
from crm.tasks.blueprint import bp
from crm.tasks.forms import edit_task_form
from crm.tasks.views import _due_at, _refused_in_place, _row, _safe_next, fragment


def _editor(task, form, status=200, message=None):
    """The edit form: in the task's row for HTMX, else its own page. A conflict (409) shows
    the task as it now is, with the message; HTMX swaps it in place (static/js/app.js)."""
    ctx = dict(task=task, form=form, message=message, back=_safe_next(""))
    if fragment():
        headers = {"HX-Retarget": f"#task-{task.id}"} if status == 409 else {}
        return render_template("tasks/_task_edit.html", **ctx), status, headers
    return render_template("tasks/edit.html", **ctx), status


@bp.get("/tasks/<int:task_id>")
def show(task_id):
    """A task: its row (what an edit's Cancel brings back), or without JavaScript its page,
    where it is edited."""
    task = policy.get_task(current_user, task_id)
    if fragment():
        return _row(task)
    return _editor(task, edit_task_form(task))


@bp.route("/tasks/<int:task_id>/edit", methods=["GET", "POST"])
def edit(task_id):
    """Edit a task's title, due date and time, assignee, notes and outreach flag."""
    task = policy.get_task(current_user, task_id)
    if request.method == "GET":
        return _editor(task, edit_task_form(task))
    form = edit_task_form(task, formdata=request.form)
    if not form.validate():
        return _editor(task, form)
    try:
        services.update_task(current_user, task, {
            "title": form.title.data, "due_at": _due_at(form), "notes": form.notes.data,
            "assignee_id": form.assignee_id.data, "is_outreach": form.is_outreach.data},
            expected_version=int_or_none(form.version.data))
    except OutreachRefused as e:
        _refused_in_place(e)
        form.is_outreach.errors = [e.message]
        return _editor(task, form)
    except Conflict as e:
        return _conflict(task_id, e)
    except ServiceError as e:
        db.session.rollback()
        apply_service_error(form, e)
        return _editor(task, form)
    if fragment():
        return _row(task, message="Saved.")
    flash(f"Task “{task.title}” saved.", "success")
    return redirect(_safe_next(url_for("tasks.today")))


def _conflict(task_id, error: Conflict):
    """Nothing of the stale form is saved: the form again, filled from the task as it now is."""
    db.session.rollback()
    task = policy.get_task(current_user, task_id)
    return _editor(task, edit_task_form(task), status=409, message=error.message)


@bp.post("/tasks/<int:task_id>/delete")
def delete(task_id):
    """Delete a task (audited); it leaves every list."""
    task = policy.get_task(current_user, task_id)
    try:
        services.delete_task(current_user, task,
                             expected_version=int_or_none(request.form.get("version")))
    except Conflict as e:
        return _conflict(task_id, e)
    if fragment():
        return (render_template("tasks/_deleted.html", task=task), 200,
                {"HX-Trigger": "taskChanged"})
    flash(f"Task “{task.title}” deleted.", "success")
    return redirect(_safe_next(url_for("tasks.today")))
