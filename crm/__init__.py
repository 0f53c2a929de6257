"""Rapport: a relationship tracker for work that happens in social-media DMs."""
import hashlib
import sqlite3
from pathlib import Path

from apiflask import APIFlask
from flask import Flask, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from crm.core import sqlite_writers
from crm.extensions import cache, csrf, db, htmx, limiter, login_manager, migrate

BASE_DIR = Path(__file__).resolve().parent.parent

PUBLIC_ENDPOINTS = {"accounts.login", "accounts.login_code", "accounts.login_enrol",
                    "accounts.login_enrol_qr", "accounts.reset_password", "static", "health",
                    "openapi.spec"}
# Blueprints that authenticate every request themselves (the API: bearer tokens only).
OWN_AUTHENTICATION = {"api"}


# The figure cache without Redis (config.Config): a folder of its own per database.
DISK_CACHE = "crm.core.disk_cache.DiskCache"


class NotConfigured(RuntimeError):
    """The settings cannot run the app; the message says what to set."""


def create_app(config: str | object = "config.Config") -> Flask:
    """Build the app; `config` is an object or an import path such as "config.TestConfig"."""
    # APIFlask is Flask with the API's request validation and the OpenAPI document it is
    # generated from (only its APIBlueprints are documented; every page is plain Flask).
    app = APIFlask(__name__, title="Rapport API", version="1",
                   spec_path="/api/v1/openapi.json", docs_path=None, json_errors=False,
                   template_folder=str(BASE_DIR / "templates"),
                   static_folder=str(BASE_DIR / "static"),
                   instance_path=str(BASE_DIR / "instance"))
    app.config.from_object(config)
    if not app.config.get("SECRET_KEY"):
        raise NotConfigured("SECRET_KEY is not set: run `make run` once (it keeps one in "
                            "instance/secret_key) or export SECRET_KEY (for example "
                            "$(python -c 'import secrets; print(secrets.token_hex(32))')).")
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if app.config.get("CACHE_TYPE") == DISK_CACHE and not app.config.get("CACHE_DIR"):
        # A folder per database: figures of one are never read for another.
        database = str(app.config.get("SQLALCHEMY_DATABASE_URI")).encode()
        folder = Path(app.instance_path) / "cache" / hashlib.sha1(database).hexdigest()[:12]
        app.config["CACHE_DIR"] = str(folder)
    sqlite_writers.configure(app.config)
    _postgres_settings(app.config)

    # The app's own modules are imported when an app is built, not at the top of this file:
    # Python runs crm/__init__.py before any crm.* module, so importing them here at the top
    # would load every view and blueprint whenever a model, a migration or a job is imported.
    from crm import models  # noqa: F401  (registers every table)
    from crm.accounts import throttle
    from crm.channels import spool, webhooks
    from crm.core import cache as figure_cache  # noqa: F401  (notes the tables each commit changes)
    from crm.jobs import queue
    from crm.web import register_web

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    throttle.init_app(app)
    if app.config.get("TRUSTED_PROXIES"):
        # Behind N proxies, the client's address is the Nth from the right of
        # X-Forwarded-For; with none configured, that header (easily forged) is ignored.
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    queue.configure(app)
    spool.configure(app)

    register_web(app)
    register_features(app)

    @app.before_request
    def require_login():
        if (request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None
                or request.endpoint in webhooks.PUBLIC or request.blueprint in OWN_AUTHENTICATION):
            return None
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None

    @app.get("/healthz", endpoint="health")
    def health():
        return {"ok": True}

    return app


def register_features(app: Flask) -> None:
    """Every feature's blueprint, command-line group and background jobs, by name (imported
    here, when the app is built, for the reason create_app gives)."""
    from crm.accounts import cli as accounts_cli, views as accounts
    from crm.admin import views as admin
    from crm.bulk import views as bulk
    from crm.campaigns import views as campaigns
    from crm.channels import cli as channels_cli, reply_views, views as channels, webhooks
    from crm.commands import one_line_errors
    from crm.contacts import views as contacts
    from crm.conversations import views as conversations
    from crm.demo import cli as demo_cli
    from crm.dm_templates import views as dm_templates
    from crm.home import views as home
    from crm.imports import cli as imports_cli, views as imports
    from crm.jobs import cli as jobs_cli, views as jobs
    from crm.pipeline import cli as pipeline_cli, views as pipeline
    from crm.privacy import views as privacy
    from crm.reports import cli as reports_cli, views as reports
    from crm.saved_views import views as saved_views
    from crm.search import views as search
    from crm.tasks import cli as tasks_cli, views as tasks
    from crm.webhooks import jobs as webhook_jobs, views as outbound_webhooks  # noqa: F401
    # Modules imported for what they add on import: more routes on their feature's blueprint
    # (before it is registered), a section of the contact page, background jobs.
    from crm.accounts import security_views, token_views  # noqa: F401
    from crm.api import blueprint as api, docs as api_docs, openapi
    from crm.api import contacts as api_contacts, conversations as api_conversations  # noqa: F401
    from crm.api import deals as api_deals, directory as api_directory  # noqa: F401
    from crm.api import messages as api_messages, tasks as api_tasks  # noqa: F401
    from crm.channels import jobs as channel_jobs  # noqa: F401
    from crm.imports.contacts_csv import jobs as csv_import_jobs  # noqa: F401
    from crm.imports.dm_exports import jobs as dm_import_jobs  # noqa: F401
    from crm.conversations import jobs as conversation_jobs  # noqa: F401
    from crm.privacy import jobs as privacy_jobs  # noqa: F401
    from crm.tasks import edit_views as task_edit_views, jobs as task_jobs  # noqa: F401
    from crm.imports.contacts_csv import views as csv_views  # noqa: F401
    from crm.imports.dm_exports import views as dm_views  # noqa: F401
    from crm.pipeline import admin_views, deal_views  # noqa: F401
    from crm.pipeline import contact_section as deals_section  # noqa: F401
    from crm.tasks import contact_section as tasks_section  # noqa: F401

    for feature in (accounts, home, contacts, conversations, dm_templates, pipeline,
                    campaigns, tasks, reports, imports, admin, channels, jobs, bulk, saved_views,
                    search, outbound_webhooks, privacy):
        app.register_blueprint(feature.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(api_docs.bp)
    openapi.configure(app)
    app.register_blueprint(reply_views.bp)
    for cli in (accounts_cli, pipeline_cli, tasks_cli, reports_cli, imports_cli, channels_cli,
                jobs_cli, demo_cli):
        cli.register(app)
    one_line_errors(app)


def refuse_unsafe_serving(app: Flask) -> None:
    """Stop a server started with settings meant for tests (CSRF off, test secret)."""
    problems = []
    if app.testing:
        problems.append("TESTING is on")
    if not app.config.get("WTF_CSRF_ENABLED", True):
        problems.append("CSRF protection is off (WTF_CSRF_ENABLED)")
    if app.config.get("SECRET_KEY") == "test-only-secret":
        problems.append("SECRET_KEY is the tests' own")
    if problems:
        raise NotConfigured("Refusing to serve with a test configuration: "
                           + "; ".join(problems) + ". Use RAPPORT_CONFIG=config.Config.")


def _postgres_settings(config: dict) -> None:
    """PostgreSQL sessions without JIT compilation. Its threshold is the planner's cost, which
    counts rows a query never reads when a LIMIT or an index stops it early: the dashboard's
    counts were compiled for 5–9 ms to run for 15. Set when connecting, so no statement is
    spent on it."""
    if not str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        return
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args", {}))
    connect_args["options"] = " ".join(filter(None, [connect_args.get("options"), "-c jit=off"]))
    options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL and foreign keys for SQLite; other databases are left alone."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=5000")
        # A bigger page cache and memory-mapped reads keep report scans off the disk.
        cur.execute("PRAGMA cache_size=-65536")
        cur.execute("PRAGMA mmap_size=268435456")
        cur.close()
