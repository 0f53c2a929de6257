"""Your API tokens, on your account page: make one (shown once), revoke one."""
from flask import abort, flash, redirect, url_for
from flask_login import current_user

from crm.accounts import tokens
from crm.accounts.blueprint import bp
from crm.accounts.forms import ApiTokenForm
from crm.accounts.security_views import security_page
from crm.core.errors import ServiceError
from crm.core.forms import apply_service_error
from crm.extensions import db


@bp.post("/account/tokens")
def create_token():
    """Make an API token; the page shows it this once (it is never stored, nor sent again)."""
    me = current_user._get_current_object()
    form = ApiTokenForm(prefix="token")
    if form.validate_on_submit():
        days = None if form.expires.data == "never" else int(form.expires.data)
        try:
            made = tokens.create_token(me, me, form.name.data, expires_in_days=days)
            db.session.flush()
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
        else:
            return security_page(new_token=made)
    return security_page(token_form=form)


@bp.post("/account/tokens/<int:token_id>/revoke")
def revoke_token(token_id):
    """Revoke one of your API tokens: requests with it are refused from now on."""
    me = current_user._get_current_object()
    token = tokens.revoke_token(me, me, token_id)
    if token is None:
        abort(404)
    flash(f"The token “{token.name}” is revoked.", "success")
    return redirect(url_for("accounts.security", _anchor="api-tokens"))
