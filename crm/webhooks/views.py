"""/admin/webhooks: register receivers, see each one's deliveries, send one again."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm import policy
from crm.accounts.forms import EmptyForm
from crm.core.errors import ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.extensions import db
from crm.webhooks import services
from crm.webhooks.forms import EndpointForm, PrivateForm
from crm.webhooks.models import EVENTS, WebhookDelivery, WebhookEndpoint

bp = Blueprint("webhooks", __name__, url_prefix="/admin/webhooks")


@bp.before_request
def admins_only():
    policy.require_admin(current_user)


def _index(form=None):
    rows = services.endpoints()
    private = PrivateForm(formdata=None, allow_private=services.allow_private())
    return render_template("webhooks/index.html", rows=rows, form=form or EndpointForm(),
                           private_form=private, counts=services.counts([r.id for r in rows]),
                           allow_private=services.allow_private(), empty=EmptyForm(),
                           events=EVENTS)


@bp.get("")
def index():
    """Webhook endpoints, what needs attention, and the form to register one."""
    return _index()


@bp.post("")
def register():
    """Register an endpoint; its secret is shown on the answer, once."""
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint, secret = services.register(current_user, url=form.url.data,
                                                 events=form.events.data or [],
                                                 description=form.description.data or "")
            return render_template("webhooks/created.html", endpoint=endpoint, secret=secret)
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
    return _index(form)


@bp.get("/<int:endpoint_id>")
def endpoint(endpoint_id):
    """One endpoint: its events and its delivery log, newest first."""
    row = db.get_or_404(WebhookEndpoint, endpoint_id)
    deliveries, more = services.log(row, int_or_none(request.args.get("before")))
    return render_template("webhooks/endpoint.html", endpoint=row, deliveries=deliveries,
                           more=more, empty=EmptyForm(), events=EVENTS)


@bp.post("/<int:endpoint_id>/enabled")
def set_enabled(endpoint_id):
    """Turn an endpoint on or off."""
    row = db.get_or_404(WebhookEndpoint, endpoint_id)
    if EmptyForm().validate_on_submit():
        on = request.form.get("enabled") == "1"
        services.set_enabled(current_user, row, on)
        flash(f"{row.url} is {'on: waiting deliveries go out again' if on else 'off'}.",
              "success")
    else:
        flash("The form expired; try again.", "error")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.post("/<int:endpoint_id>/delete")
def delete(endpoint_id):
    """Delete an endpoint and its delivery log."""
    row = db.get_or_404(WebhookEndpoint, endpoint_id)
    if not EmptyForm().validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    url = row.url
    services.remove(current_user, row)
    flash(f"{url} deleted.", "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/deliveries/<int:delivery_id>/again")
def send_again(delivery_id):
    """Send a finished delivery's event once more."""
    row = db.get_or_404(WebhookDelivery, delivery_id)
    endpoint_id = row.endpoint_id
    try:
        if not EmptyForm().validate_on_submit():
            raise ServiceError("The form expired; try again.")
        services.send_again(current_user, row)
        flash(f"{row.event_type} {row.event_id} is queued again.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.post("/private")
def private():
    """Allow or refuse receivers at private addresses."""
    form = PrivateForm()
    if form.validate_on_submit():
        services.set_allow_private(current_user, bool(form.allow_private.data))
        flash("Private receivers are allowed." if form.allow_private.data else
              "Private receivers are refused.", "success")
    else:
        flash("The form expired; try again.", "error")
    return redirect(url_for("webhooks.index"))
