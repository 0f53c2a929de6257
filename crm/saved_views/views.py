"""Saved views: save a page's filters (the strip on the contacts list, the inbox and the
board), and a page to rename, share and delete them."""

from flask import Blueprint, flash, redirect, render_template, request, url_for

from crm import policy
from crm.core.errors import ServiceError
from crm.core.links import local_path
from crm.core.viewer import me
from crm.extensions import db
from crm.saved_views import services
from crm.saved_views.forms import RenameViewForm, SaveViewForm, clean_query

bp = Blueprint("saved_views", __name__, url_prefix="/views")


def page_url(view) -> str:
    """Where a saved view opens: its page with its filters."""
    base = url_for(services.PAGES[view.page].endpoint)
    return f"{base}?{view.query}" if view.query else base


bp.add_app_template_global(page_url, "saved_view_url")


@bp.app_template_global("saved_views_strip")
def saved_views_strip(key: str, filters: dict):
    """A page's saved views for the signed-in user, its filters (as_args()) the ones to save:
    the contacts list, the inbox and the board include the strip with it."""
    return services.strip(me(), key, filters, request.query_string)


def _back(default: str) -> str:
    return local_path(request.form.get("next"), default)


def _first_error(form) -> str:
    name, errors = next(iter(form.errors.items()))
    return f"{form[name].label.text}: {errors[0]}"


@bp.get("")
def index():
    """Your saved views and the team's shared ones: rename, share, delete."""
    views = services.visible_views(me())
    return render_template("saved_views/index.html", views=views, pages=services.PAGES,
                           rename_form=RenameViewForm(formdata=None))


@bp.post("")
def save():
    """Save the page's current filters under a name."""
    form = SaveViewForm()
    key = form.page.data if form.page.data in services.PAGES else "contacts"
    here = url_for(services.PAGES[key].endpoint)
    here = f"{here}?{form.query.data}" if form.query.data else here
    if not form.validate():
        flash(_first_error(form) + " Nothing was saved.", "error")
        return redirect(here)
    try:
        view = services.save_view(me(), key, form.name.data,
                                  clean_query(key, form.query.data), shared=form.shared.data)
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(here)
    flash(f"View “{view.name}” saved" + (" and shared with the team." if view.shared else "."),
          "success")
    return redirect(page_url(view))


@bp.post("/<int:view_id>/rename")
def rename(view_id):
    """Rename a view (its owner, or an admin for a shared one)."""
    view = policy.get_saved_view(me(), view_id)
    form = RenameViewForm()
    back = _back(url_for("saved_views.index"))
    try:
        if not form.validate():
            raise ServiceError(_first_error(form), field="name")
        services.rename_view(me(), view, form.name.data)
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(back)
    flash(f"Renamed “{view.name}”.", "success")
    return redirect(back)


@bp.post("/<int:view_id>/share")
def share(view_id):
    """Share a view with the team, or stop sharing it."""
    view = policy.get_saved_view(me(), view_id)
    shared = request.form.get("shared") == "1"
    try:
        services.share_view(me(), view, shared)
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        flash(f"“{view.name}” is " + ("shared with the team." if shared else "yours alone now."),
              "success")
    return redirect(_back(url_for("saved_views.index")))


@bp.post("/<int:view_id>/delete")
def delete(view_id):
    """Delete a view."""
    view = policy.get_saved_view(me(), view_id)
    name = view.name
    try:
        services.delete_view(me(), view)
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    else:
        flash(f"View “{name}” deleted.", "success")
    return redirect(_back(url_for("saved_views.index")))
