"""The /api/v1 blueprint: every request authenticated by its bearer token (never a session
cookie; no CSRF, which guards cookies), bodies JSON and bounded, and every error a problem
document. The resource modules add their routes to it."""
from apiflask import APIBlueprint
from apiflask.exceptions import HTTPError
from flask import current_app, request
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from crm.api import auth
from crm.api.problems import field_errors, from_http_exception, problem
from crm.contacts.consent import record_refusal
from crm.core import transaction
from crm.core.errors import Conflict, OutreachRefused, ServiceError
from crm.core.keyset import BadCursor
from crm.extensions import csrf, db, limiter

bp = APIBlueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
# Limited per token instead (crm.api.auth), with a Retry-After that says when to come back.
limiter.exempt(bp)
BODY_METHODS = ("POST", "PUT", "PATCH")


@bp.before_request
def authenticate_and_bound():
    request.max_content_length = current_app.config["API_MAX_BODY_BYTES"]
    refused = auth.authenticate()
    if refused is not None:
        return refused
    if request.method in BODY_METHODS and (request.content_length or 0) > 0 \
            and not request.is_json:
        return problem(415, "Send the body as JSON (Content-Type: application/json).")
    return None


@bp.errorhandler(HTTPError)
def api_error(e: HTTPError):
    """Input the schemas refused (422, naming each field), or an error a view raised."""
    if e.status_code == 422 and isinstance(e.detail, dict):
        errors = field_errors(e.detail)
        detail = "; ".join(f"{x['field']}: {x['detail']}" if x["field"] else x["detail"]
                           for x in errors)
        return problem(422, detail, errors=errors)
    return problem(e.status_code, e.message if isinstance(e.message, str) else None,
                   headers=dict(e.headers or {}))


def _http_problem(e: HTTPException):
    db.session.rollback()
    return from_http_exception(e)


# The app answers 404 and 429 with pages (web.register_web): code handlers come before class
# handlers, so the API names these codes too.
for code in (400, 404, 405, 413, 415, 429):
    bp.register_error_handler(code, _http_problem)
bp.register_error_handler(HTTPException, _http_problem)


@bp.errorhandler(ServiceError)
def service_error(e: ServiceError):
    """A rule refused the change: nothing is kept."""
    db.session.rollback()
    if isinstance(e, Conflict):
        return problem(409, e.message)
    return problem(422, e.message, errors=[{"field": e.field, "detail": e.message}])


@bp.errorhandler(OutreachRefused)
def outreach_refused(e: OutreachRefused):
    """The consent gate refused: nothing of the request is kept but the refusal itself, as on
    the pages (the dashboard counts refusals)."""
    from flask_login import current_user

    db.session.rollback()
    record_refusal(current_user, e.contact_id, e.action, e.message)
    transaction.commit_even_if_refused()
    return problem(409, e.message, title="Refused by the consent gate")


@bp.errorhandler(StaleDataError)
def changed_meanwhile(e):
    db.session.rollback()
    return problem(409, "The record was changed by someone else meanwhile; read it again.")


@bp.errorhandler(BadCursor)
def bad_cursor(e: BadCursor):
    return problem(400, str(e), errors=[{"field": "cursor", "detail": str(e)}])
