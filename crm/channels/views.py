"""/admin/channels: connect Instagram, Messenger and WhatsApp; see what needs attention."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import policy
from crm.accounts.forms import EmptyForm
from crm.channels import services
from crm.channels.forms import ChannelForm, ReconnectForm, TemplateForm
from crm.channels.links import callback_url
from crm.channels.models import Channel
from crm.core.errors import ServiceError
from crm.core.forms import apply_service_error
from crm.extensions import db

bp = Blueprint("channels", __name__, url_prefix="/admin/channels")


@bp.before_request
def admins_only():
    policy.require_admin(current_user)


def _page(form=None, status=200):
    rows = [(c, services.describe(c, callback_url(c))) for c in services.list_channels()]
    return render_template("channels/admin.html", rows=rows, form=form or ChannelForm(),
                           reconnect_form=ReconnectForm(), template_form=TemplateForm(),
                           empty=EmptyForm()), status


@bp.get("")
def index():
    """Connected channels, their callback URLs, and the form to add one."""
    return _page()


@bp.post("")
def add():
    """Connect a channel."""
    form = ChannelForm()
    if form.validate_on_submit():
        try:
            channel = services.add_channel(
                current_user, kind=form.kind.data, name=form.name.data,
                app_secret=form.app_secret.data, verify_token=form.verify_token.data,
                access_token=form.access_token.data, account_id=form.account_id.data,
                phone_number_id=form.phone_number_id.data, human_agent=form.human_agent.data)
            flash(f"“{channel.name}” is connected. Paste its callback URL and verify token "
                  "into Meta's webhook settings.", "success")
            return redirect(url_for("channels.index"))
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
    return _page(form, 200)


@bp.post("/<int:channel_id>/reconnect")
def reconnect(channel_id):
    """Replace a revoked access token."""
    channel = db.get_or_404(Channel, channel_id)
    form = ReconnectForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError("Paste the new access token.", field="access_token")
        services.reconnect(current_user, channel, access_token=form.access_token.data,
                           app_secret=form.app_secret.data)
        flash(f"“{channel.name}” is connected again.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("channels.index"))


@bp.post("/<int:channel_id>/human-agent")
def human_agent(channel_id):
    """Turn human-agent replies (7 days) on or off."""
    channel = db.get_or_404(Channel, channel_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.set_human_agent(current_user, channel, request.form.get("enabled") == "1")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("channels.index"))


@bp.post("/<int:channel_id>/templates")
def add_template(channel_id):
    """Register an approved WhatsApp template."""
    channel = db.get_or_404(Channel, channel_id)
    form = TemplateForm()
    try:
        if not form.validate_on_submit():
            raise ServiceError("Enter the template's name, language and text.")
        services.add_template(current_user, channel, name=form.name.data,
                              language=form.language.data, body=form.body.data)
        flash(f"Template “{form.name.data}” registered.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("channels.index"))
