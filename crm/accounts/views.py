"""Sign in and sign out."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

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
            login_user(outcome.user, remember=form.remember.data)
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
    logout_user()
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))
