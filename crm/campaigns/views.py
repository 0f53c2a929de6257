"""Campaign pages: the list, a campaign with its deals and figures, adding people."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm import policy
from crm.campaigns import services
from crm.campaigns.forms import AddPersonForm, CampaignForm
from crm.campaigns.models import Campaign
from crm.contacts.consent import may_contact
from crm.contacts.queries import suggest_contacts
from crm.core.errors import Conflict, OutreachRefused, ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.extensions import db, htmx
from crm.accounts.services import active_users
from crm.pipeline.forms import stage_choices

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")
LIST_LIMIT = 200


@bp.app_template_global("may_contact_of")
def may_contact_of(contact):
    return may_contact(contact)


def campaign_form(campaign=None, formdata=None) -> CampaignForm:
    form = (CampaignForm(formdata=None, obj=campaign) if formdata is None
            else CampaignForm(formdata=formdata))
    users = active_users() if current_user.is_manager else [current_user]
    form.owner_id.choices = [(str(u.id), u.name) for u in users]
    if formdata is None:
        form.owner_id.data = str(campaign.owner_id if campaign and campaign.owner_id
                                 else current_user.id)
    return form


def _values(form) -> dict:
    return {k: form[k].data for k in services.FIELDS}


@bp.get("")
def index():
    """Campaigns: dates, budget, spend and deals — current first, then archived on request."""
    archived = request.args.get("archived") == "1"
    campaigns = db.session.scalars(
        select(Campaign).where(Campaign.archived_at.is_not(None) if archived
                               else Campaign.archived_at.is_(None))
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc()).limit(LIST_LIMIT)).all()
    return render_template("campaigns/index.html", campaigns=campaigns, archived=archived,
                           figures=services.summaries(current_user, campaigns))


@bp.route("/new", methods=["GET", "POST"])
def new():
    """Create a campaign."""
    form = campaign_form(formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            campaign = services.create_campaign(current_user, _values(form))
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
        else:
            flash(f"Campaign “{campaign.name}” created. Add people to it below.", "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None)


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit(campaign_id):
    """Edit a campaign (its owner or a manager)."""
    campaign = policy.get_campaign(current_user, campaign_id)
    if not policy.can_manage_campaign(current_user, campaign):
        abort(404)
    form = campaign_form(campaign, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            services.update_campaign(current_user, campaign, _values(form),
                                     expected_version=int_or_none(form.version.data))
        except Conflict as e:
            # The form shows the campaign as it is now, with what happened above it.
            db.session.rollback()
            form = campaign_form(campaign)
            form.form_errors.append(e.message)
            return render_template("campaigns/form.html", form=form, campaign=campaign)
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
        else:
            flash("Campaign saved.", "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign)


@bp.post("/<int:campaign_id>/archive")
def archive(campaign_id):
    """Archive or restore a campaign."""
    campaign = policy.get_campaign(current_user, campaign_id)
    try:
        services.set_archived(current_user, campaign, request.form.get("archived") != "0",
                              expected_version=int_or_none(request.form.get("version")))
        flash("Campaign archived." if campaign.archived_at else "Campaign restored.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


def add_form(formdata=None) -> AddPersonForm:
    form = AddPersonForm(formdata=formdata)
    form.stage_id.choices = stage_choices()
    return form


def _page(campaign, **extra):
    figures = services.summaries(current_user, [campaign])[campaign.id]
    deals = services.campaign_deals(current_user, campaign)
    groups: dict = {}
    for deal in deals:
        groups.setdefault((deal.pipeline_id, deal.stage), []).append(deal)
    q = (request.args.get("q") or "").strip()
    ctx = dict(campaign=campaign, figures=figures, groups=groups, q=q,
               matches=suggest_contacts(current_user, q, limit=8) if q else [],
               form=extra.pop("form", None) or add_form(),
               can_manage=policy.can_manage_campaign(current_user, campaign))
    ctx.update(extra)
    return ctx


@bp.get("/<int:campaign_id>")
def show(campaign_id):
    """A campaign: budget against spend, outcomes, and its deals by stage."""
    campaign = policy.get_campaign(current_user, campaign_id)
    ctx = _page(campaign)
    if htmx and not htmx.boosted and htmx.target == "add-matches":
        return render_template("campaigns/_matches.html", **ctx)
    return render_template("campaigns/show.html", **ctx)


@bp.post("/<int:campaign_id>/people")
def add_person(campaign_id):
    """Add someone to the campaign (opens a deal for them); refused for opted-out people."""
    campaign = policy.get_campaign(current_user, campaign_id)
    form = add_form(request.form)
    if form.validate():
        contact = policy.get_contact(current_user, int_or_none(form.contact_id.data) or 0)
        try:
            deal = services.add_to_campaign(current_user, campaign, contact,
                                            stage_id=form.stage_id.data or None,
                                            value_minor=form.value_minor.data)
        except OutreachRefused:
            raise  # the app's handler records the refusal and explains it
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
        else:
            flash(f"{contact.name} added to {campaign.name}.", "success")
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template("campaigns/show.html", **_page(campaign, form=form))
