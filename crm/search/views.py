"""GET /search: the search page, and the command palette's results fragment."""
from flask import Blueprint, render_template, request
from flask_login import current_user

from crm.extensions import htmx
from crm.search import services

bp = Blueprint("search", __name__)


@bp.get("/search")
def index():
    """Search contacts, deals, campaigns, messages and pages (the palette asks the same)."""
    palette = bool(htmx and not htmx.boosted) and request.args.get("palette") == "1"
    per_kind = services.PER_KIND if palette else services.PER_KIND_PAGE
    results = services.search(current_user, request.args.get("q", ""), per_kind)
    template = "search/_results.html" if htmx and not htmx.boosted else "search/index.html"
    return render_template(template, results=results, palette=palette, per_kind=per_kind)
