"""Sign in and sign out."""
from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_login import current_user, login_required, login_user, logout_user

from crm.accounts import sessions
from crm.accounts.forms import EmptyForm, LoginForm
from crm.accounts.signin import check_credentials, signed_in
from crm.extensions import db

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


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = check_credentials(form.email.data, form.password.data, request.remote_addr)
        if outcome.user is not None:
            remember = bool(form.remember.data) and current_app.config["REMEMBER_DAYS"] > 0
            # A fresh session: nothing from before the sign-in is carried over.
            session.clear()
            sessions.start(outcome.user, remember=remember, address=request.remote_addr,
                           user_agent=request.user_agent.string)
            login_user(outcome.user, remember=remember)
            signed_in(outcome.user, request.remote_addr)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        db.session.commit()  # the failure's audit event
        form.password.errors.append(outcome.error)
        if outcome.throttled:
            return (render_template("accounts/login.html", form=form), 429,
                    {"Retry-After": str(outcome.retry_after)})
    return render_template("accounts/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    EmptyForm()  # CSRF is checked globally by CSRFProtect
    sessions.end_current(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))
