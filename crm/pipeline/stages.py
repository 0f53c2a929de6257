"""Administering pipelines: stages (add, rename, reorder, retire, delete), follow-up days,
lost reasons. A stage that deals have been in is never deleted, only retired."""
from sqlalchemy import exists, func, or_, select

from crm.audit import services as audit
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.pipeline.models import LOST, OPEN, OUTCOMES, WON, Deal, LostReason, Pipeline, Stage, StageChange

OUTCOME_LABELS = {OPEN: "Open", WON: "Won", LOST: "Lost"}
KIND_LABELS = {"sales": "Sales", "influencer": "Influencer collaborations"}


def _require_admin(actor) -> None:
    if actor is not None and not actor.is_admin:
        raise ValidationFailed("Only admins can change pipelines.")


def _name(value, field="name", limit=80) -> str:
    name = " ".join((value or "").split())[:limit]
    if not name:
        raise ValidationFailed("Give it a name.", field=field)
    return name


def _ensure_unique_stage(pipeline: Pipeline, name: str, exclude: Stage | None = None) -> None:
    for stage in pipeline.stages:
        if stage is not exclude and stage.retired_at is None and stage.name.lower() == name.lower():
            raise ValidationFailed(f"“{pipeline.name}” already has a stage called {stage.name}.",
                                   field="name")


def create_pipeline(actor, name: str, kind: str = "sales") -> Pipeline:
    """A new pipeline with a starting open stage and a won and a lost stage."""
    _require_admin(actor)
    name = _name(name, limit=120)
    if kind not in KIND_LABELS:
        raise ValidationFailed("Choose a kind of pipeline.", field="kind")
    if db.session.scalar(select(exists().where(func.lower(Pipeline.name) == name.lower()))):
        raise ValidationFailed(f"A pipeline called “{name}” already exists.", field="name")
    position = (db.session.scalar(select(func.max(Pipeline.position))) or 0) + 1
    pipeline = Pipeline(name=name, kind=kind, position=position, follow_up_days=3)
    db.session.add(pipeline)
    db.session.flush()
    for i, (stage_name, outcome) in enumerate([("New", OPEN), ("Won", WON), ("Lost", LOST)]):
        db.session.add(Stage(pipeline_id=pipeline.id, name=stage_name, position=i, outcome=outcome))
    audit.record(actor, "create", pipeline, summary=f"Pipeline “{name}” created")
    db.session.flush()
    db.session.expire(pipeline, ["stages"])
    return pipeline


def add_stage(actor, pipeline: Pipeline, name: str, outcome: str = OPEN) -> Stage:
    """Add a stage; an open stage goes after the other open ones, a closed one at the end."""
    _require_admin(actor)
    name = _name(name)
    if outcome not in OUTCOMES:
        raise ValidationFailed("Choose open, won or lost.", field="outcome")
    _ensure_unique_stage(pipeline, name)
    ordered = list(pipeline.stages)
    stage = Stage(pipeline_id=pipeline.id, name=name, outcome=outcome)
    insert_at = len(ordered)
    if outcome == OPEN:
        closed = [i for i, s in enumerate(ordered) if s.outcome != OPEN]
        insert_at = closed[0] if closed else len(ordered)
    ordered.insert(insert_at, stage)
    db.session.add(stage)
    for i, s in enumerate(ordered):
        s.position = i
    db.session.flush()
    db.session.expire(pipeline, ["stages"])
    audit.record(actor, "create", stage, summary=f"Stage “{name}” added to {pipeline.name}")
    return stage


def rename_stage(actor, stage: Stage, name: str) -> None:
    _require_admin(actor)
    name = _name(name)
    if name == stage.name:
        return
    _ensure_unique_stage(stage.pipeline, name, exclude=stage)
    audit.record(actor, "update", stage, summary=f"Stage “{stage.name}” renamed to “{name}”",
                 changes={"name": [stage.name, name]})
    stage.name = name


def move_stage(actor, stage: Stage, offset: int) -> None:
    """Move a stage one place up (-1) or down (+1)."""
    _require_admin(actor)
    ordered = list(stage.pipeline.stages)
    i = ordered.index(stage)
    j = i + (1 if offset > 0 else -1)
    if not 0 <= j < len(ordered):
        return
    ordered[i], ordered[j] = ordered[j], ordered[i]
    for position, s in enumerate(ordered):
        s.position = position
    db.session.flush()
    db.session.expire(stage.pipeline, ["stages"])
    audit.record(actor, "update", stage, summary=f"Stage “{stage.name}” reordered")


def _keeps_one_of_each(stage: Stage) -> None:
    others = [s for s in stage.pipeline.active_stages if s is not stage]
    if not any(s.outcome == stage.outcome for s in others):
        label = OUTCOME_LABELS[stage.outcome].lower()
        raise ValidationFailed(f"“{stage.name}” is the only {label} stage of "
                               f"{stage.pipeline.name}; add another {label} stage first.")


def retire_stage(actor, stage: Stage) -> None:
    """Hide a stage from new moves; its deals stay where they are and stay visible."""
    _require_admin(actor)
    if stage.retired_at is not None:
        return
    _keeps_one_of_each(stage)
    stage.retired_at = utcnow()
    audit.record(actor, "retire", stage, summary=f"Stage “{stage.name}” retired")


def unretire_stage(actor, stage: Stage) -> None:
    _require_admin(actor)
    if stage.retired_at is None:
        return
    _ensure_unique_stage(stage.pipeline, stage.name, exclude=stage)
    stage.retired_at = None
    audit.record(actor, "restore", stage, summary=f"Stage “{stage.name}” back in use")


def stage_usage(stage: Stage) -> int:
    """How many deals sit in the stage (their history is checked separately)."""
    return db.session.scalar(select(func.count()).select_from(Deal)
                             .where(Deal.stage_id == stage.id))


def delete_stage(actor, stage: Stage) -> None:
    """Delete a stage no deal is in and no history mentions; otherwise refuse."""
    _require_admin(actor)
    held = stage_usage(stage)
    if held:
        raise ValidationFailed(f"“{stage.name}” holds {held} deal{'s' if held != 1 else ''}: "
                               "retire it instead, so no deal loses its stage.")
    in_history = db.session.scalar(select(exists().where(or_(
        StageChange.from_stage_id == stage.id, StageChange.to_stage_id == stage.id))))
    if in_history:
        raise ValidationFailed(f"Deals have been through “{stage.name}”: retire it instead, "
                               "so their history stays complete.")
    if stage.retired_at is None:
        _keeps_one_of_each(stage)
    pipeline = stage.pipeline
    audit.record(actor, "delete", stage, summary=f"Stage “{stage.name}” deleted")
    db.session.delete(stage)
    db.session.flush()
    db.session.expire(pipeline, ["stages"])
    for position, s in enumerate(pipeline.stages):
        s.position = position


def set_follow_up_days(actor, pipeline: Pipeline, days) -> None:
    """After how many days without a reply a follow-up task is created."""
    _require_admin(actor)
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise ValidationFailed("Follow-up days must be a whole number.", field="follow_up_days")
    if not 1 <= days <= 90:
        raise ValidationFailed("Follow-up days must be between 1 and 90.", field="follow_up_days")
    if days != pipeline.follow_up_days:
        audit.record(actor, "update", pipeline, summary=f"{pipeline.name}: follow up after {days} d",
                     changes={"follow_up_days": [pipeline.follow_up_days, days]})
        pipeline.follow_up_days = days


def add_lost_reason(actor, name: str) -> LostReason:
    _require_admin(actor)
    name = _name(name, limit=120)
    if db.session.scalar(select(exists().where(func.lower(LostReason.name) == name.lower()))):
        raise ValidationFailed(f"“{name}” is already in the list.", field="name")
    position = (db.session.scalar(select(func.max(LostReason.position))) or 0) + 1
    reason = LostReason(name=name, position=position)
    db.session.add(reason)
    audit.record(actor, "create", reason, summary=f"Lost reason “{name}” added")
    return reason


def rename_lost_reason(actor, reason: LostReason, name: str) -> None:
    _require_admin(actor)
    name = _name(name, limit=120)
    clash = db.session.scalar(select(LostReason).where(func.lower(LostReason.name) == name.lower(),
                                                       LostReason.id != reason.id))
    if clash is not None:
        raise ValidationFailed(f"“{name}” is already in the list.", field="name")
    if name != reason.name:
        audit.record(actor, "update", reason, summary=f"Lost reason renamed to “{name}”",
                     changes={"name": [reason.name, name]})
        reason.name = name


def set_lost_reason_retired(actor, reason: LostReason, retired: bool) -> None:
    """Retired reasons stay on the deals that used them but are no longer offered."""
    _require_admin(actor)
    if retired and reason.retired_at is None:
        reason.retired_at = utcnow()
        audit.record(actor, "retire", reason, summary=f"Lost reason “{reason.name}” retired")
    elif not retired and reason.retired_at is not None:
        reason.retired_at = None
        audit.record(actor, "restore", reason, summary=f"Lost reason “{reason.name}” back in use")
