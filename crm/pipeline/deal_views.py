"""Deal pages: a deal with its history, new and edit forms, closing won or lost, results."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm import policy
from crm.contacts.queries import suggest_contacts
from crm.conversations.models import Conversation
from crm.core.errors import Conflict, OutreachRefused, ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.core.links import local_path
from crm.extensions import db, htmx
from crm.pipeline import services
from crm.pipeline.forms import CloseForm, DealForm, ResultsForm, stage_choices
from crm.pipeline.models import StageChange
from crm.accounts.services import active_users
from crm.pipeline.blueprint import bp
from crm.pipeline.views import lost_reason_choices, open_campaigns
from crm.tasks.forms import new_task_form
from crm.tasks.queries import open_tasks_for_deal

DEAL_FIELDS = ("title", "value_minor", "currency", "owner_id", "expected_close_on",
               "campaign_id", "next_step", "next_step_on", "platform")


def safe_next(default: str) -> str:
    return local_path(request.values.get("next"), default)


def deal_form(deal=None, formdata=None) -> DealForm:
    form = DealForm(obj=deal) if formdata is None else DealForm(formdata=formdata)
    form.stage_id.choices = stage_choices()
    if current_user.is_manager:
        form.owner_id.choices = [("", "The contact's owner")] + [(str(u.id), u.name)
                                                                for u in active_users()]
    else:   # a rep's deals are their own
        form.owner_id.choices = [(str(current_user.id), current_user.name)]
    form.campaign_id.choices = [("", "No campaign")] + [(str(c.id), c.name)
                                                        for c in open_campaigns()]
    if deal is not None and formdata is None:
        form.owner_id.data = str(deal.owner_id or "")
        form.campaign_id.data = str(deal.campaign_id or "")
        form.platform.data = deal.platform or ""
        form.version.data = deal.version
    return form


def deal_values(form) -> dict:
    return {name: form[name].data for name in DEAL_FIELDS}


def results_values(form) -> dict:
    return {k: form[k].data for k in services.RESULT_FIELDS}


@bp.route("/deals/new", methods=["GET", "POST"])
def new_deal():
    """Open a deal for a contact; without one, pick the contact first."""
    contact_id = int_or_none(request.values.get("contact_id"))
    if contact_id is None:
        q = (request.args.get("q") or "").strip()
        rows = suggest_contacts(current_user, q, limit=20) if q else []
        return render_template("pipeline/choose_contact.html", q=q, rows=rows,
                               campaign_id=request.args.get("campaign_id", ""))
    contact = policy.get_contact(current_user, contact_id)
    if request.method == "GET" and htmx and not htmx.boosted:
        # The contact page's "Quick deal" button: a short form, in place.
        default = services.default_pipeline_for(contact)
        first = default.first_open_stage() if default else None
        return render_template("pipeline/_quick_deal.html", contact=contact,
                               stage_choices=stage_choices(),
                               default_stage_id=str(first.id) if first else "")
    form = deal_form(formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        default = services.default_pipeline_for(contact)
        first = default.first_open_stage() if default else None
        form.stage_id.data = request.args.get("stage_id") or (str(first.id) if first else "")
        form.campaign_id.data = request.args.get("campaign_id", "")
        form.currency.data = contact.currency
        form.value_minor.data = contact.rate_per_post_minor or contact.estimated_value_minor
        handle = contact.primary_handle
        form.platform.data = handle.platform if handle else ""
    if request.method == "POST" and form.validate():
        try:
            deal = services.create_deal(current_user, contact, deal_values(form),
                                        stage_id=form.stage_id.data)
        except OutreachRefused:
            raise
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
        else:
            flash(f"Deal “{deal.title}” opened in {deal.stage.name}.", "success")
            return redirect(safe_next(url_for("pipeline.deal", deal_id=deal.id)))
    return render_template("pipeline/deal_new.html", form=form, contact=contact)


def _history(deal):
    return db.session.scalars(
        select(StageChange).where(StageChange.deal_id == deal.id)
        .options(joinedload(StageChange.from_stage), joinedload(StageChange.to_stage),
                 joinedload(StageChange.actor))
        .order_by(StageChange.at.desc(), StageChange.id.desc()).limit(200)).all()


def deal_context(deal, **extra) -> dict:
    history = _history(deal)
    tasks = open_tasks_for_deal(current_user, deal)
    # A deal owned on someone else's contact names the contact and shows nothing else of them.
    contact_visible = policy.can_view_contact(current_user, deal.contact)
    last_dm = db.session.scalars(
        select(Conversation).where(Conversation.contact_id == deal.contact_id,
                                   Conversation.last_message_at.is_not(None))
        .order_by(Conversation.last_message_at.desc()).limit(1)).first() \
        if contact_visible else None
    close_form = extra.pop("close_form", None) or CloseForm(formdata=None)
    close_form.lost_reason_id.choices = lost_reason_choices()
    results_form = extra.pop("results_form", None) or ResultsForm(obj=deal, formdata=None)
    results_form.version.data = deal.version
    close_form.version.data = deal.version
    ctx = dict(deal=deal, history=history, time_per_stage=services.time_per_stage(deal, history),
               tasks=tasks, last_dm=last_dm, close_form=close_form, results_form=results_form,
               move_stages=deal.pipeline.active_stages,
               needs_next_step=deal.is_open and not deal.next_step and not tasks,
               contact_visible=contact_visible,
               task_form=new_task_form(contact=deal.contact if contact_visible else None,
                                       deal=deal))
    ctx.update(extra)
    return ctx


@bp.get("/deals/<int:deal_id>")
def deal(deal_id):
    """A deal: stage, value, next step, tasks, last DM, outcome and the stage history."""
    deal = policy.get_deal(current_user, deal_id)
    return render_template("pipeline/deal.html", **deal_context(deal))


@bp.route("/deals/<int:deal_id>/edit", methods=["GET", "POST"])
def edit_deal(deal_id):
    """Edit a deal's fields; refused when someone else saved it since the form was loaded."""
    deal = policy.get_deal(current_user, deal_id)
    form = deal_form(deal, formdata=request.form if request.method == "POST" else None)
    if request.method == "POST" and form.validate():
        try:
            services.update_deal(current_user, deal, deal_values(form),
                                 expected_version=int_or_none(form.version.data))
        except OutreachRefused:
            raise
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
            if isinstance(e, Conflict):
                form.version.data = deal.version
        else:
            flash("Deal saved.", "success")
            return redirect(url_for("pipeline.deal", deal_id=deal.id))
    return render_template("pipeline/deal_edit.html", form=form, deal=deal)


@bp.post("/deals/<int:deal_id>/close")
def close_deal(deal_id):
    """Mark a deal won (with deliverables and results) or lost (with a reason)."""
    deal = policy.get_deal(current_user, deal_id)
    form = CloseForm()
    form.lost_reason_id.choices = lost_reason_choices()
    if form.validate():
        try:
            services.close_deal(current_user, deal, form.outcome.data,
                                expected_version=int_or_none(form.version.data),
                                lost_reason_id=form.lost_reason_id.data or None,
                                lost_note=form.lost_note.data,
                                results=results_values(form) if form.outcome.data == "won" else None)
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
        else:
            flash(f"“{deal.title}” marked {deal.outcome}.", "success")
            return redirect(url_for("pipeline.deal", deal_id=deal.id))
    return render_template("pipeline/deal.html", **deal_context(deal, close_form=form,
                                                                 open_close=True))


@bp.post("/deals/<int:deal_id>/results")
def deal_results(deal_id):
    """Record a collaboration's deliverables and results (reach, clicks, conversions…)."""
    deal = policy.get_deal(current_user, deal_id)
    form = ResultsForm()
    if form.validate():
        try:
            services.record_results(current_user, deal, results_values(form),
                                    expected_version=int_or_none(form.version.data))
        except ServiceError as e:
            db.session.rollback()
            apply_service_error(form, e)
        else:
            flash("Results saved.", "success")
            return redirect(url_for("pipeline.deal", deal_id=deal.id))
    return render_template("pipeline/deal.html", **deal_context(deal, results_form=form))
