"""/admin/pipelines: stages, follow-up days and lost reasons (admins only)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from crm import policy
from crm.core.errors import ServiceError
from crm.core.forms import apply_service_error, int_or_none
from crm.extensions import db
from crm.pipeline import board as queries
from crm.pipeline import stages as admin
from crm.pipeline.forms import FollowUpForm, NameForm, PipelineForm, StageForm
from crm.pipeline.models import Deal, LostReason, Pipeline, Stage, StageChange
from crm.pipeline.blueprint import bp
from crm.pipeline.views import fragment


def _admin():
    policy.require_admin(current_user)


def _get(model, object_id):
    row = db.session.get(model, object_id)
    if row is None:
        abort(404)
    return row


def _usage(pipeline) -> dict[int, tuple[int, bool]]:
    """{stage id: (deals in it, appears in history)} in two grouped queries."""
    ids = [s.id for s in pipeline.stages]
    held = dict(db.session.execute(select(Deal.stage_id, func.count()).where(
        Deal.stage_id.in_(ids)).group_by(Deal.stage_id)).all())
    seen = set(db.session.scalars(select(StageChange.to_stage_id).where(
        StageChange.to_stage_id.in_(ids)).distinct()))
    seen |= set(db.session.scalars(select(StageChange.from_stage_id).where(
        StageChange.from_stage_id.in_(ids)).distinct()))
    return {i: (held.get(i, 0), i in seen) for i in ids}


def _stages_context(pipeline, **extra) -> dict:
    ctx = dict(pipeline=pipeline, usage=_usage(pipeline),
               stage_form=extra.pop("stage_form", None) or StageForm(formdata=None),
               error=None)
    ctx.update(extra)
    return ctx


@bp.get("/admin/pipelines")
def admin_pipelines():
    """Pipelines and their stages, follow-up days and lost reasons."""
    _admin()
    pipelines = queries.pipelines()
    reasons = db.session.scalars(select(LostReason).order_by(
        LostReason.retired_at.is_not(None), LostReason.position, LostReason.name)).all()
    forms = dict(pipelines=pipelines, reasons=reasons, reason_form=NameForm(formdata=None),
                 pipeline_form=PipelineForm(formdata=None))
    if not pipelines:   # a database made without the migrations: only a new one can be made
        return render_template("pipeline/admin.html", pipeline=None, **forms)
    chosen = next((p for p in pipelines if p.id == int_or_none(request.args.get("pipeline"))),
                  pipelines[0])
    follow_form = FollowUpForm(formdata=None, follow_up_days=chosen.follow_up_days)
    return render_template("pipeline/admin.html", follow_form=follow_form, **forms,
                           **_stages_context(chosen))


def _after_stage_change(pipeline, error=None, stage_form=None):
    """Answer a stage action: the stage list (HTMX) or the page again (PRG)."""
    if fragment():
        db.session.expire(pipeline, ["stages"])
        return render_template("pipeline/_admin_stages.html",
                               **_stages_context(pipeline, error=error, stage_form=stage_form))
    if error:
        flash(error, "error")
    return redirect(url_for("pipeline.admin_pipelines", pipeline=pipeline.id))


def _run(pipeline, action, *args, stage_form=None):
    try:
        action(current_user, *args)
    except ServiceError as e:
        db.session.rollback()
        if stage_form is not None and e.field:
            apply_service_error(stage_form, e)
            return _after_stage_change(pipeline, stage_form=stage_form,
                                       error=None if fragment() else e.message)
        return _after_stage_change(pipeline, error=e.message, stage_form=stage_form)
    return _after_stage_change(pipeline)


@bp.post("/admin/pipelines/new")
def admin_new_pipeline():
    """Create a pipeline (it starts with New, Won and Lost stages)."""
    _admin()
    form = PipelineForm()
    if form.validate():
        try:
            pipeline = admin.create_pipeline(current_user, form.name.data, form.kind.data)
            flash(f"Pipeline “{pipeline.name}” created.", "success")
            return redirect(url_for("pipeline.admin_pipelines", pipeline=pipeline.id))
        except ServiceError as e:
            db.session.rollback()
            flash(e.message, "error")
    else:
        flash(form.name.errors[0] if form.name.errors else "Check the form.", "error")
    return redirect(url_for("pipeline.admin_pipelines"))


@bp.post("/admin/pipelines/<int:pipeline_id>/stages")
def admin_add_stage(pipeline_id):
    """Add a stage."""
    _admin()
    pipeline = _get(Pipeline, pipeline_id)
    form = StageForm()
    if not form.validate():
        return _after_stage_change(pipeline, stage_form=form,
                                   error=None if fragment() else form.name.errors[0])
    return _run(pipeline, admin.add_stage, pipeline, form.name.data, form.outcome.data,
                stage_form=form)


@bp.post("/admin/stages/<int:stage_id>/<action>")
def admin_stage(stage_id, action):
    """Rename, move up/down, retire, bring back or delete a stage."""
    _admin()
    stage = _get(Stage, stage_id)
    pipeline = stage.pipeline
    if action == "rename":
        return _run(pipeline, admin.rename_stage, stage, request.form.get("name", ""))
    if action in ("up", "down"):
        return _run(pipeline, admin.move_stage, stage, -1 if action == "up" else 1)
    if action == "retire":
        return _run(pipeline, admin.retire_stage, stage)
    if action == "unretire":
        return _run(pipeline, admin.unretire_stage, stage)
    if action == "delete":
        return _run(pipeline, admin.delete_stage, stage)
    abort(404)


@bp.post("/admin/pipelines/<int:pipeline_id>/follow-up")
def admin_follow_up(pipeline_id):
    """Set after how many days without a reply a follow-up task is created."""
    _admin()
    pipeline = _get(Pipeline, pipeline_id)
    try:
        admin.set_follow_up_days(current_user, pipeline, request.form.get("follow_up_days"))
        flash(f"{pipeline.name}: follow-ups after {pipeline.follow_up_days} days.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("pipeline.admin_pipelines", pipeline=pipeline.id))


@bp.post("/admin/lost-reasons")
def admin_add_reason():
    """Add a lost reason to the list."""
    _admin()
    return _reason_action(lambda: admin.add_lost_reason(current_user, request.form.get("name")))


@bp.post("/admin/lost-reasons/<int:reason_id>/<action>")
def admin_reason(reason_id, action):
    """Rename, retire or bring back a lost reason."""
    _admin()
    reason = _get(LostReason, reason_id)
    actions = {
        "rename": lambda: admin.rename_lost_reason(current_user, reason, request.form.get("name")),
        "retire": lambda: admin.set_lost_reason_retired(current_user, reason, True),
        "unretire": lambda: admin.set_lost_reason_retired(current_user, reason, False),
    }
    if action not in actions:
        abort(404)
    return _reason_action(actions[action])


def _reason_action(action):
    try:
        action()
        flash("Lost reasons updated.", "success")
    except ServiceError as e:
        db.session.rollback()
        flash(e.message, "error")
    return redirect(url_for("pipeline.admin_pipelines",
                            pipeline=request.form.get("pipeline") or None) + "#lost-reasons")

