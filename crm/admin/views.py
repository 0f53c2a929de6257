"""Admin pages: users and roles, the audit log, settings."""
from datetime import datetime, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm import policy
from crm.accounts import mail, passwords, sessions, two_factor
from crm.accounts import services as accounts
from crm.accounts.forms import EmptyForm, RoleForm, UserForm
from crm.accounts.models import User
from crm.admin.forms import SettingsForm
from crm.audit import services as audit_log
from crm.audit.models import AuditEvent
from crm.core.errors import ServiceError
from crm.core.forms import apply_service_error
from crm.core.public_urls import public_url
from crm.extensions import db
from crm.settings import services as settings

bp = Blueprint("admin", __name__, url_prefix="/admin")
AUDIT_PAGE = 100
SECURITY_ACTIONS = ["sign_in", "sign_in_failed", "sign_in_locked", "sign_out", "sessions_ended",
                    "password_changed", "password_reset_link", "password_reset", "two_factor_on",
                    "two_factor_off", "recovery_codes", "recovery_code_used",
                    "two_factor_required", "token_created", "token_revoked"]


@bp.before_request
def admins_only():
    policy.require_admin(current_user)


@bp.route("/users", methods=["GET", "POST"])
def users():
    """Users: add, change role, deactivate."""
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(current_user, email=form.email.data, name=form.name.data,
                                        role=form.role.data, password=form.password.data)
            flash(f"{user.name} can now sign in as {user.role_label.lower()}.", "success")
            return redirect(url_for("admin.users"))
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
    rows = db.session.scalars(select(User).order_by(User.active.desc(), User.name)).all()
    return render_template("admin/users.html", users=rows, form=form, role_form=RoleForm,
                           empty=EmptyForm())


@bp.post("/users/<int:user_id>/role")
def change_role(user_id):
    """Change a user's role."""
    user = db.get_or_404(User, user_id)
    form = RoleForm()
    try:
        if not form.validate():
            raise ServiceError("Choose a valid role.", field="role")
        accounts.change_role(current_user, user, form.role.data)
        flash(f"{user.name} is now {user.role_label.lower()}.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id):
    """Deactivate (their sessions stop working) or reactivate a user."""
    user = db.get_or_404(User, user_id)
    active = request.form.get("active") == "1"
    try:
        accounts.set_active(current_user, user, active)
        flash(f"{user.name} {'reactivated' if active else 'deactivated'}.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/reset-link")
def reset_link(user_id):
    """A one-time link for the user to choose a new password (emailed if SMTP is set up)."""
    user = db.get_or_404(User, user_id)
    try:
        token = passwords.create_reset_link(current_user, user)
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
        return redirect(url_for("admin.users"))
    public = public_url("accounts.reset_password", token=token)
    link = public or url_for("accounts.reset_password", token=token, _external=True)
    hours = current_app.config["PASSWORD_RESET_HOURS"]
    emailed = None
    no_public_url = mail.configured() and public is None
    if mail.configured() and public is not None:
        emailed = mail.send_reset_link(user, public, hours)
    return render_template("admin/reset_link.html", user=user, link=link, hours=hours,
                           emailed=emailed, no_public_url=no_public_url)


@bp.post("/users/<int:user_id>/sessions/end")
def end_sessions(user_id):
    """Sign a user out everywhere."""
    user = db.get_or_404(User, user_id)
    ended = sessions.end_all(user, "ended by admin", actor=current_user)
    flash(f"{user.name}: {ended} session{'s' if ended != 1 else ''} signed out.", "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/two-factor/off")
def two_factor_off(user_id):
    """Turn off someone's two-factor sign-in (they lost their phone and their codes)."""
    user = db.get_or_404(User, user_id)
    if user.two_factor_on:
        two_factor.turn_off(user, current_user)
        flash(f"Two-factor sign-in is off for {user.name}.", "success")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
def audit():
    """The audit log, newest first, filtered by actor, action, record and date."""
    stmt = select(AuditEvent)
    actor = request.args.get("actor", "")
    action = request.args.get("action", "")
    entity = request.args.get("entity", "")
    entity_id = request.args.get("entity_id", "")
    since = request.args.get("since", "")
    if actor.isdigit():
        stmt = stmt.where(AuditEvent.actor_id == int(actor))
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if entity:
        stmt = stmt.where(AuditEvent.entity_type == entity)
    if entity_id.isdigit():
        stmt = stmt.where(AuditEvent.entity_id == int(entity_id))
    try:
        if since:
            stmt = stmt.where(AuditEvent.at >= datetime.fromisoformat(since))
    except ValueError:
        flash("The date must look like 2026-11-01.", "error")
    before = request.args.get("before", "")
    if before.isdigit():
        stmt = stmt.where(AuditEvent.id < int(before))
    rows = db.session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(AUDIT_PAGE + 1)).all()
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    users = db.session.scalars(select(User).order_by(User.name)).all()
    actions = ["create", "update", "archive", "restore", "consent", "delete", "move", "close",
               "cancel", "import", "outreach_refused", *SECURITY_ACTIONS]
    entities = ["contact", "user", "message", "deal", "task", "campaign", "dm_template", "note",
                "import_run"]
    args = {k: v for k, v in request.args.items() if k != "before"}
    return render_template("admin/audit.html", rows=rows, more=more, users=users,
                           actions=actions, entities=entities, args=args)


@bp.route("/settings", methods=["GET", "POST"])
def settings_page():
    """Response target, duplicate-outreach window, opt-out phrases; pipelines and stages."""
    form = SettingsForm()
    if request.method == "GET":
        form.response_target_hours.data = settings.get("response_target_hours")
        form.duplicate_window_days.data = settings.get("duplicate_window_days")
        form.stop_phrases.data = "\n".join(settings.get("stop_phrases"))
        form.require_two_factor.data = bool(settings.get("require_two_factor"))
    if form.validate_on_submit():
        phrases = [p.strip() for p in form.stop_phrases.data.splitlines() if p.strip()]
        if not phrases:
            form.stop_phrases.errors.append("Keep at least one phrase.")
        else:
            settings.put("response_target_hours", form.response_target_hours.data)
            settings.put("duplicate_window_days", form.duplicate_window_days.data)
            settings.put("stop_phrases", phrases)
            signed_out = two_factor.set_required(current_user, bool(form.require_two_factor.data))
            audit_log.record(current_user, "update", None, summary="Settings changed",
                             entity_type="settings")
            flash("Settings saved." + (f" {signed_out} admin or manager without two-factor "
                                       f"sign-in {'was' if signed_out == 1 else 'were'} signed "
                                       f"out to set it up." if signed_out else "")
                  + (" Set up yours on Your account." if settings.get("require_two_factor")
                     and not current_user.two_factor_on else ""), "success")
            return redirect(url_for("admin.settings_page"))
    return render_template("admin/settings.html", form=form)
