"""What every page shares: login loading, template filters, error pages, HTMX and security
headers."""
from flask import Flask, g, render_template, request
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from crm import headers
from crm.accounts import sessions
from crm.accounts.sessions import device_label
from crm.api.problems import from_http_exception, problem
from crm.channels.live import channels_to_reconnect
from crm.contacts.consent import record_refusal
from crm.contacts.models import KIND_LABELS, PLATFORM_LABELS
from crm.conversations.services import needs_reply_count
from crm.core import timeutil, transaction
from crm.core.links import RowUrl, http_url
from crm.core.viewer import viewer_timezone
from crm.core.errors import OutreachRefused
from crm.core.money import money
from crm.extensions import db, login_manager


API_PREFIX = "/api/v1/"


def register_web(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(secret: str):
        return sessions.user_for(secret)

    @app.after_request
    def vary_on_htmx(response):
        response.headers.add("Vary", "HX-Request")
        return response

    headers.register(app)

    @app.after_request
    def end_transaction(response):
        return transaction.end_request(response)

    @app.teardown_request
    def rollback_unfinished(exc):
        if exc is not None:  # unhandled (tests let them propagate)
            transaction.abandon_request()

    @app.errorhandler(404)
    def not_found(e):
        if request.path.startswith(API_PREFIX):   # no route: the API answers in its own way
            return problem(404, "There is no such endpoint; see /api/v1/openapi.json.")
        return render_template("errors/404.html"), 404

    @app.errorhandler(HTTPException)
    def api_or_default(e: HTTPException):
        # Errors met before a route is found (a method the route does not take) answer the
        # API's clients with a problem document too; pages keep Flask's own answer.
        if request.path.startswith(API_PREFIX):
            return from_http_exception(e)
        return e

    @app.errorhandler(OutreachRefused)
    def outreach_refused(e: OutreachRefused):
        # The request's own work is undone; the refusal alone is kept, though the full
        # page answers 409. A page only shown (a link to a contact page with a template,
        # which anyone can craft) writes nothing: the refusal recorded is the attempt to
        # send, the POST that uses the template.
        db.session.rollback()
        if current_user.is_authenticated and request.method not in ("GET", "HEAD"):
            record_refusal(current_user, e.contact_id, e.action, e.message)
            transaction.commit_even_if_refused()
        if request.headers.get("HX-Request"):
            # htmx swaps 2xx only; the fragment tells the user in place.
            return render_template("errors/_refused.html", message=e.message), 200
        return render_template("errors/refused.html", message=e.message), 409

    @app.errorhandler(StaleDataError)
    def changed_meanwhile(e):
        # A row whose version moved on under this request (optimistic locking): a conflict
        # to explain, not a server error. Services turn the ones they expect into Conflict.
        db.session.rollback()
        return render_template("errors/conflict.html"), 409

    @app.errorhandler(429)
    def too_many(e):
        return render_template("errors/429.html"), 429

    app.add_template_global(RowUrl, "row_url")

    @app.template_global()
    def platform_label(platform):
        return PLATFORM_LABELS.get(platform, platform or "")

    @app.template_global()
    def kind_label(kind):
        return KIND_LABELS.get(kind, kind)

    @app.template_filter("localtime")
    def localtime(value, fmt="%d %b %Y, %H:%M"):
        tz = viewer_timezone()
        dt = timeutil.local(value, tz)
        return dt.strftime(fmt) if dt else ""

    @app.template_filter("duration")
    def duration(seconds):
        return timeutil.humanize_duration(seconds)

    app.add_template_filter(money, "money")
    app.add_template_filter(http_url, "http_url")
    app.add_template_filter(device_label, "device")

    app.add_template_filter(timeutil.ago, "ago")

    @app.template_filter("thousands")
    def thousands(value):
        return "—" if value is None else f"{value:,}"

    @app.context_processor
    def navigation():
        counts = {}
        # Fragments skip the count; boosted navigations render the whole layout, badge included.
        fragment = request.headers.get("HX-Request") and not request.headers.get("HX-Boosted")
        if current_user.is_authenticated and request.endpoint and not fragment:
            # The inbox has just counted the same conversations (see conversations.inbox).
            counts["needs_reply"] = (g.needs_reply_count if "needs_reply_count" in g
                                     else needs_reply_count(current_user))
        reconnect = []
        if current_user.is_authenticated and not fragment:
            reconnect = channels_to_reconnect()
        return {"nav_counts": counts, "platform_labels": PLATFORM_LABELS,
                "channels_to_reconnect": reconnect}
