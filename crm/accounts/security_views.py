"""Your account's security: password, two-factor sign-in, where you are signed in; and the
page a reset link opens."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.accounts import passwords, sessions, tokens, two_factor
from crm.accounts.forms import ApiTokenForm, ChangePasswordForm, CodeForm, DisableTwoFactorForm
from crm.accounts.forms import EmptyForm
from crm.accounts.forms import ResetPasswordForm
from crm.accounts.blueprint import bp
from crm.accounts.views import WRONG_SETUP_CODE, qr_response, setup_page
from crm.core.errors import ServiceError
from crm.core.forms import apply_service_error
from crm.extensions import db


def _me():
    return current_user._get_current_object()


def security_page(password_form=None, off_form=None, token_form=None, new_token=None,
                  status=200):
    """The account page (with a form's errors, or a token just made shown once)."""
    user = _me()
    return render_template(
        "accounts/security.html", user=user,
        password_form=password_form or ChangePasswordForm(prefix="pw"),
        off_form=off_form or DisableTwoFactorForm(prefix="off"), empty=EmptyForm(),
        open_sessions=sessions.open_sessions(user), current_session_id=user.session_id,
        codes_left=two_factor.recovery_codes_left(user) if user.two_factor_on else 0,
        required=two_factor.required_for(user),
        token_form=token_form or ApiTokenForm(prefix="token", formdata=None),
        api_tokens=tokens.tokens_of(user), token_state=tokens.state_of,
        new_token=new_token), status


@bp.get("/account")
def security():
    """Your password, two-factor sign-in and sessions."""
    return security_page()


@bp.post("/account/password")
def change_password():
    """Change your password (the current one is required); your other sessions end."""
    form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            ended = passwords.change_password(
                _me(), current=form.current_password.data, new=form.new_password.data,
                confirm=form.confirm.data, address=request.remote_addr)
            flash("Password changed." + (f" Signed out of {ended} other session"
                                         f"{'s' if ended != 1 else ''}." if ended else ""),
                  "success")
            return redirect(url_for("accounts.security"))
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
    return security_page(password_form=form)


@bp.post("/account/sessions/<int:session_id>/end")
def end_session(session_id):
    """Sign out one of your other browsers."""
    me = _me()
    if session_id == me.session_id or not sessions.end_one(me, session_id):
        abort(404)
    flash("That session is signed out.", "success")
    return redirect(url_for("accounts.security"))


@bp.post("/account/sessions/end-others")
def end_other_sessions():
    """Sign out everywhere but here."""
    ended = sessions.end_all(_me(), "ended by user", keep_current=True)
    flash(f"Signed out of {ended} other session{'s' if ended != 1 else ''}.", "success")
    return redirect(url_for("accounts.security"))


@bp.post("/account/two-factor/start")
def two_factor_start():
    """Begin turning on two-factor sign-in."""
    try:
        two_factor.start_enrolment(_me())
    except ServiceError as e:
        flash(e.message, "error")
        return redirect(url_for("accounts.security"))
    return redirect(url_for("accounts.two_factor_setup"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor_setup():
    """Scan the code, type one code from the app, and keep the recovery codes."""
    me = _me()
    if me.two_factor_on or not me.totp_secret:
        return redirect(url_for("accounts.security"))
    form = CodeForm()
    if form.validate_on_submit():
        codes = two_factor.confirm_enrolment(me, form.code.data)
        if codes is not None:
            return render_template("accounts/recovery_codes.html", codes=codes,
                                   next_url=url_for("accounts.security"), first=True)
        form.code.errors.append(WRONG_SETUP_CODE)
    return setup_page(me, form, required=False)


@bp.get("/account/two-factor/qr.svg")
def two_factor_qr():
    """The QR code of your enrolment in progress."""
    me = _me()
    if me.two_factor_on or not me.totp_secret:
        abort(404)
    return qr_response(me)


@bp.post("/account/two-factor/cancel")
def two_factor_cancel():
    """Stop setting up two-factor sign-in."""
    two_factor.cancel_enrolment(_me())
    return redirect(url_for("accounts.security"))


@bp.post("/account/two-factor/off")
def two_factor_off():
    """Turn two-factor sign-in off (your password is required)."""
    me = _me()
    form = DisableTwoFactorForm(prefix="off")
    if two_factor.required_for(me):
        flash("Two-factor sign-in is required for your role; an admin can change that.",
              "error")
        return redirect(url_for("accounts.security"))
    if form.validate_on_submit():
        if me.check_password(form.password.data):
            two_factor.turn_off(me, me)
            flash("Two-factor sign-in is off.", "success")
            return redirect(url_for("accounts.security"))
        form.password.errors.append("That is not your password.")
    return security_page(off_form=form)


@bp.post("/account/two-factor/recovery-codes")
def recovery_codes():
    """New recovery codes (the old ones stop working)."""
    me = _me()
    if not me.two_factor_on:
        return redirect(url_for("accounts.security"))
    codes = two_factor.regenerate(me)
    return render_template("accounts/recovery_codes.html", codes=codes,
                           next_url=url_for("accounts.security"), first=False)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    """Choose a new password with a one-time link from an admin."""
    if passwords.reset_for(token) is None:
        return render_template("accounts/reset_invalid.html"), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            passwords.reset_password(token, new=form.new_password.data, confirm=form.confirm.data)
            flash("Your new password is set. Sign in with it.", "success")
            return redirect(url_for("accounts.login"))
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
    return render_template("accounts/reset.html", form=form)
