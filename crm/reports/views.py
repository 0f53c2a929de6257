"""The dashboard, its drill-down lists and its CSV exports."""
from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.accounts.models import User

from crm.core.timeutil import local
from crm.extensions import db, htmx
from crm.reports import export
from crm.reports.chart_data import charts_for, drill_url
from crm.reports.dashboard import build_dashboard, filter_options
from crm.reports.drill import UnknownDrill, drill_page
from crm.reports.filters import PRESETS, DashboardFilters
from crm.reports.scope import SCOPE_NOTE, Scope

bp = Blueprint("reports", __name__, url_prefix="/dashboard")
bp.add_app_template_global(drill_url)

PARTIALS = {"dashboard-body": "reports/_body.html", "dashboard-panels": "reports/_panels.html",
            "leaderboard": "reports/_leaderboard.html"}


@bp.app_template_global()
def dashboard_url(f, **overrides):
    return url_for("reports.dashboard", **f.as_args(**overrides))


def _list_filters(d) -> dict:
    """The owner and platform as the inbox and the board spell them (a manager's choice)."""
    out = {}
    if d.scope.owner_id is not None and current_user.is_manager:
        out["owner"] = d.scope.owner_id
    if d.filters.platform:
        out["platform"] = d.filters.platform
    return out


@bp.app_template_global()
def inbox_url(d):
    """The inbox filtered like the dashboard (it has owner and platform filters)."""
    return url_for("conversations.inbox", **_list_filters(d))


@bp.app_template_global()
def board_url(d, pipeline_id):
    args = _list_filters(d)
    if d.filters.campaign:
        args["campaign"] = d.filters.campaign
    return url_for("pipeline.board", pipeline=pipeline_id, **args)


@bp.app_template_global()
def drill_page_url(f, page, **extra):
    """The same drill-down list with `extra` (the next page's cursor)."""
    return drill_url(f, page.kind, **page.params, **extra)


def _fragment() -> bool:
    return bool(htmx) and not htmx.boosted


def _filters() -> DashboardFilters:
    filters = DashboardFilters.from_args(request.args, current_user.timezone)
    if not current_user.is_manager:
        filters.owner = ""   # a rep's dashboard is theirs whatever the address says
    return filters


@bp.get("")
def dashboard():
    """Pipeline, DMs, work and consent at a glance, for the filters in the query string."""
    filters = _filters()
    canonical = url_for("reports.dashboard", **filters.as_args())
    if not _fragment() and not filters.errors and request.args.to_dict() != filters.as_args():
        # e.g. a form sent without JavaScript: keep the address short and shareable
        return redirect(canonical)
    dash = build_dashboard(current_user, filters)
    ctx = dict(d=dash, f=filters, presets=PRESETS, scope_note=SCOPE_NOTE, charts=charts_for(dash),
               **filter_options(current_user))
    if _fragment() and htmx.target in PARTIALS:
        html = render_template(PARTIALS[htmx.target], oob=htmx.target == "dashboard-body", **ctx)
        return html, 200, {"HX-Push-Url": canonical} if not filters.errors else {}
    return render_template("reports/dashboard.html", **ctx)


@bp.get("/export/<table>.csv")
def export_csv(table):
    """One dashboard table as CSV, for the same filters."""
    if table not in export.TABLES:
        abort(404)
    filters = _filters()
    dash = build_dashboard(current_user, filters)
    day = local(dash.generated_at, filters.tz).date().isoformat()
    return Response(export.to_csv(table, dash), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="rapport-{table}-{day}.csv"'})


@bp.get("/<kind>")
def drill(kind):
    """The records behind one dashboard figure (scoped exactly like the figure)."""
    filters = _filters()
    scope = Scope.for_view(current_user, filters)
    try:
        page = drill_page(kind, scope, filters, request.args)
    except UnknownDrill:
        abort(404)
    users = {}
    if kind == "response-times":
        users = {u.id: u for u in db.session.scalars(select(User))}
    return render_template("reports/drill.html", page=page, f=filters, scope=scope, users=users)
