"""/api/docs: the API's reference, read from /api/v1/openapi.json by a viewer kept under
static/ (no CDN; it runs under the app's Content-Security-Policy)."""
from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/docs", endpoint="reference")
def reference():
    """The REST API's reference: every endpoint, its parameters, bodies and answers."""
    return render_template("api/docs.html")
