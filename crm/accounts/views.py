"""Sign in and sign out."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from crm.accounts.forms import EmptyForm, LoginForm
from crm.accounts.services import find_by_email
from crm.core.timeutil import utcnow
from crm.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def safe_next(target: str | None) -> str:
    """Only local paths: `next=` never sends anyone to another site."""
    if not target:
        return url_for("home.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return url_for("home.index")
    return target


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"],
               error_message="Too many sign-in attempts. Wait a minute and try again.")
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_by_email(form.email.data)
        if user is None or not user.check_password(form.password.data) or not user.active:
            form.password.errors.append("Email or password is not right, or the account is "
                                        "deactivated.")
        else:
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    EmptyForm()  # CSRF is checked globally by CSRFProtect
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))
