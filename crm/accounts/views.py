"""Sign in and sign out."""
import time

from flask import (abort, current_app, flash, make_response, redirect,
                   render_template, request, session, url_for)
from flask_login import current_user, login_required, login_user, logout_user

from crm.accounts import sessions, two_factor
from crm.accounts.forms import CodeForm, EmptyForm, LoginForm
from crm.accounts.models import User
from crm.accounts.signin import check_code, check_credentials, signed_in
from crm.core import transaction
from crm.core.errors import ServiceError
from crm.core.links import local_path
from crm.extensions import db
from crm.accounts.blueprint import bp



def safe_next(target: str | None) -> str:
    """Only local paths: `next=` never sends anyone to another site."""
    return local_path(target, url_for("home.index"))


# A password checked but a code still to come: how long the half-way state lasts.
PENDING_SECONDS = 600


def _finish_sign_in(user, remember: bool, next_url: str | None, method: str = "password"):
    """Start the user's server-side session and send them on."""
    session.clear()      # a fresh session: nothing from before the sign-in is carried over
    sessions.start(user, remember=remember, address=request.remote_addr,
                   user_agent=request.user_agent.string)
    login_user(user, remember=remember)
    signed_in(user, request.remote_addr, method)
    return redirect(safe_next(next_url))


def _pending(stage: str):
    """The user whose password was right and who still owes a code (or an enrolment)."""
    state = session.get("signin")
    if not state or state.get("stage") != stage or time.time() - state["at"] > PENDING_SECONDS:
        return None, None
    user = db.session.get(User, state["uid"])
    if user is None or not user.active:
        return None, None
    return user, state


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        outcome = check_credentials(form.email.data, form.password.data, request.remote_addr)
        user = outcome.user
        if user is not None:
            remember = bool(form.remember.data) and current_app.config["REMEMBER_DAYS"] > 0
            next_url = request.args.get("next")
            if not user.two_factor_on and not two_factor.required_for(user):
                response = _finish_sign_in(user, remember, next_url)
                return response
            stage = "code" if user.two_factor_on else "enrol"
            if stage == "enrol":
                try:
                    two_factor.start_enrolment(user)
                except ServiceError as e:
                    form.password.errors.append(e.message)
                    return render_template("accounts/login.html", form=form)
            session.clear()
            session["signin"] = {"uid": user.id, "remember": remember, "next": next_url,
                                 "stage": stage, "at": time.time()}
            return redirect(url_for("accounts.login_code" if stage == "code"
                                    else "accounts.login_enrol"))
        return _refused("accounts/login.html", form, form.password, outcome)
    return render_template("accounts/login.html", form=form)


def _refused(template: str, form, field, outcome):
    """The form again with why; 429 and Retry-After while sign-in is throttled."""
    field.errors.append(outcome.error)
    if outcome.throttled:
        transaction.commit_even_if_refused()  # the failure's audit event
        return (render_template(template, form=form), 429,
                {"Retry-After": str(outcome.retry_after)})
    return render_template(template, form=form)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """The second step: a code from the authenticator app, or a recovery code."""
    user, state = _pending("code")
    if user is None:
        flash("Sign in again: that sign-in took too long.", "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        outcome = check_code(user, form.code.data, request.remote_addr)
        if outcome.user is not None:
            response = _finish_sign_in(user, state["remember"], state["next"], outcome.method)
            return response
        return _refused("accounts/login_code.html", form, form.code, outcome)
    return render_template("accounts/login_code.html", form=form)


@bp.route("/login/two-factor", methods=["GET", "POST"])
def login_enrol():
    """Two-factor sign-in is required for this role: set it up before going further."""
    user, state = _pending("enrol")
    if user is None:
        flash("Sign in again: that sign-in took too long.", "info")
        return redirect(url_for("accounts.login"))
    form = CodeForm()
    if form.validate_on_submit():
        codes = two_factor.confirm_enrolment(user, form.code.data)
        if codes is not None:
            _finish_sign_in(user, state["remember"], state["next"], "two-factor set up")
            return render_template("accounts/recovery_codes.html", codes=codes,
                                   next_url=safe_next(state["next"]), first=True)
        form.code.errors.append(WRONG_SETUP_CODE)
    return setup_page(user, form, required=True)


WRONG_SETUP_CODE = "That code is not right. Check the time on your phone and use the newest code."


def setup_page(user, form, required: bool):
    """The enrolment page: at sign-in when required, or from the account page."""
    return render_template(
        "accounts/two_factor_setup.html", form=form, user=user, required=required,
        secret=two_factor.grouped_secret(user),
        qr_url=url_for("accounts.login_enrol_qr" if required else "accounts.two_factor_qr"),
        action=url_for("accounts.login_enrol" if required else "accounts.two_factor_setup"))


@bp.get("/login/two-factor/qr.svg")
def login_enrol_qr():
    """The QR code of a required enrolment in progress."""
    user, _ = _pending("enrol")
    if user is None or not user.totp_secret:
        abort(404)
    return qr_response(user)


def qr_response(user):
    response = make_response(two_factor.qr_svg(user))
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/logout")
@login_required
def logout():
    """Sign out: this session ends on the server too."""
    EmptyForm()  # CSRF is checked globally by CSRFProtect
    sessions.end_current(current_user._get_current_object())
    session.clear()
    logout_user()       # after the clear: it marks the remember-me cookie for deletion
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.login"))
