"""Deal rules: create, edit, move through stages, close as won or lost, record results.

The board, the deal page, the campaign page, the CLI and the tests all come through here,
so permission, consent and the optimistic version check cannot be skipped.
"""
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from crm import policy
from crm.accounts.models import User
from crm.audit import services as audit
from crm.campaigns.models import Campaign
from crm.contacts.consent import require_may_contact
from crm.contacts.models import PLATFORMS, Contact
from crm.core.errors import Conflict, ValidationFailed
from crm.core.forms import int_or_none
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.pipeline.models import LOST, OPEN, WON, Deal, LostReason, Pipeline, Stage, StageChange
from crm.webhooks import outbox

CURRENCIES = ("USD", "EUR", "GBP")
POST_TYPES = ("Instagram post", "Instagram Reel", "Instagram Story", "TikTok video",
              "YouTube video", "YouTube Short", "X post", "LinkedIn post", "Blog post", "Other")
RESULT_FIELDS = ("post_type", "posted_url", "posted_on", "reach", "clicks", "conversions",
                 "revenue_minor")
CAMPAIGN_ACTION = "adding to a campaign"


class LostReasonRequired(ValidationFailed):
    """Closing as lost needs a reason; the board answers with the lost-reason prompt."""

    def __init__(self, deal: Deal, stage: Stage):
        super().__init__("Choose why the deal was lost.", field="lost_reason_id")
        self.deal = deal
        self.stage = stage


def _require_edit(actor, deal: Deal) -> None:
    # actor None is the system itself (demo loader, CLI maintenance).
    if actor is not None and not policy.can_view_deal(actor, deal):
        raise ValidationFailed("You cannot change this deal.")


def _check_version(deal: Deal, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != deal.version:
        raise Conflict(conflict_message(deal))


def conflict_message(deal: Deal) -> str:
    return (f"“{deal.title}” was changed by someone else since you loaded the page. "
            "Your change was not saved; it now shows its current state.")


def _flush(deal: Deal) -> None:
    """Flush, turning a lost race on the version column into a Conflict."""
    message = conflict_message(deal)
    try:
        db.session.flush()
    except StaleDataError:
        raise Conflict(message)


def _text(value, limit: int) -> str | None:
    value = (value or "").strip() if isinstance(value, str) or value is None else str(value)
    return value[:limit] or None


def _count(data: dict, key: str, label: str) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{label} must be a whole number.", field=key)
    if value < 0:
        raise ValidationFailed(f"{label} cannot be negative.", field=key)
    return value


def _date(data: dict, key: str, label: str) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(f"{label} must be a date (YYYY-MM-DD).", field=key)


def _owner(actor, owner_id, current: int | None) -> int | None:
    if owner_id in (None, ""):
        return None
    owner_id = int(owner_id)
    if owner_id == current:
        return owner_id
    if actor is not None and not policy.can_reassign(actor) and owner_id != actor.id:
        raise ValidationFailed("Only managers can give a deal to someone else.", field="owner_id")
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.active:
        raise ValidationFailed("Choose an active user as owner.", field="owner_id")
    return owner_id


def _campaign(campaign_id):
    if campaign_id in (None, ""):
        return None
    campaign = db.session.get(Campaign, int(campaign_id))
    if campaign is None or campaign.archived_at is not None:
        raise ValidationFailed("Choose an active campaign.", field="campaign_id")
    return campaign


def _clean(actor, data: dict, deal: Deal | None) -> dict:
    """Check and normalise the editable fields present in `data`."""
    out = {}
    if "title" in data or deal is None:
        out["title"] = _text(data.get("title"), 200)
        if not out["title"]:
            raise ValidationFailed("Give the deal a title.", field="title")
    if "value_minor" in data:
        out["value_minor"] = _count(data, "value_minor", "Value") or 0
    if "currency" in data:
        out["currency"] = (data.get("currency") or "USD").upper()
        if out["currency"] not in CURRENCIES:
            raise ValidationFailed(f"Currency must be one of {', '.join(CURRENCIES)}.",
                                   field="currency")
    if "owner_id" in data:
        out["owner_id"] = _owner(actor, data.get("owner_id"), deal.owner_id if deal else None)
    if "campaign_id" in data:
        campaign = _campaign(data.get("campaign_id"))
        out["campaign_id"] = campaign.id if campaign else None
    if "expected_close_on" in data:
        out["expected_close_on"] = _date(data, "expected_close_on", "Expected close")
    if "next_step" in data:
        out["next_step"] = _text(data.get("next_step"), 200)
    if "next_step_on" in data:
        out["next_step_on"] = _date(data, "next_step_on", "Next step date")
    if "platform" in data:
        out["platform"] = data.get("platform") or None
        if out["platform"] and out["platform"] not in PLATFORMS:
            raise ValidationFailed("Choose a platform from the list.", field="platform")
    return out


def clean_results(data: dict) -> dict:
    """Deliverables and results of an influencer collaboration, checked."""
    out = {}
    if "post_type" in data:
        out["post_type"] = _text(data.get("post_type"), 40)
    if "posted_url" in data:
        url = _text(data.get("posted_url"), 500)
        if url and not url.lower().startswith(("http://", "https://")):
            raise ValidationFailed("The posted URL must start with https://", field="posted_url")
        out["posted_url"] = url
    if "posted_on" in data:
        out["posted_on"] = _date(data, "posted_on", "Post date")
    for key, label in (("reach", "Reach"), ("clicks", "Clicks"), ("conversions", "Conversions"),
                       ("revenue_minor", "Revenue")):
        if key in data:
            out[key] = _count(data, key, label)
    return out


def default_pipeline_for(contact) -> Pipeline | None:
    """The pipeline a new deal for `contact` goes to (None when there is none)."""
    kind = "influencer" if contact.kind == "influencer" else "sales"
    pipelines = db.session.scalars(select(Pipeline).where(Pipeline.archived_at.is_(None))
                                   .order_by(Pipeline.position, Pipeline.id)).all()
    return next((p for p in pipelines if p.kind == kind), pipelines[0] if pipelines else None)


def create_deal(actor, contact, data: dict, *, stage_id: int | None = None,
                now: datetime | None = None) -> Deal:
    """Open a deal for `contact` in an open stage; a campaign deal passes the consent gate."""
    if actor is not None and not policy.can_view_contact(actor, contact):
        raise ValidationFailed("You cannot add deals to this contact.")
    if stage_id in (None, ""):
        pipeline = default_pipeline_for(contact)
        stage = pipeline.first_open_stage() if pipeline else None
    else:
        stage = db.session.get(Stage, int(stage_id))
    if stage is None or stage.retired_at is not None or stage.pipeline.archived_at is not None:
        raise ValidationFailed("Choose a stage for the deal.", field="stage_id")
    if stage.outcome != OPEN:
        raise ValidationFailed("A new deal starts in an open stage; close it afterwards.",
                               field="stage_id")
    values = _clean(actor, data, None)
    if values.get("campaign_id"):
        require_may_contact(contact, action=CAMPAIGN_ACTION)
    if values.get("owner_id") is None:
        values["owner_id"] = contact.owner_id or (actor.id if actor is not None else None)
        if actor is not None and not policy.can_reassign(actor):
            values["owner_id"] = actor.id
    if not values.get("platform") and contact.primary_handle is not None:
        values["platform"] = contact.primary_handle.platform
    now = now or utcnow()
    # The contact's owner as committed, read FOR SHARE on PostgreSQL: a reassignment of the
    # contact running meanwhile finishes first, or waits for this deal and then moves it.
    contact_owner_id = db.session.scalar(select(Contact.owner_id).where(
        Contact.id == contact.id).with_for_update(read=True))
    deal = Deal(contact_id=contact.id, contact_owner_id=contact_owner_id,
                pipeline_id=stage.pipeline_id, stage_id=stage.id, stage_entered_at=now,
                outcome=OPEN, **values)
    deal.contact = contact
    deal.stage = stage
    db.session.add(deal)
    db.session.flush()
    db.session.add(StageChange(deal_id=deal.id, from_stage_id=None, to_stage_id=stage.id,
                               actor_id=getattr(actor, "id", None), at=now))
    audit.record(actor, "create", deal, summary=f"Deal “{deal.title}” opened for {contact.name}")
    return deal


def update_deal(actor, deal: Deal, data: dict, *, expected_version: int | None = None) -> dict:
    """Edit a deal's fields (not its stage); refused when someone else saved it meanwhile."""
    _require_edit(actor, deal)
    _check_version(deal, expected_version)
    values = _clean(actor, data, deal)
    results = clean_results(data)
    if values.get("campaign_id") and values["campaign_id"] != deal.campaign_id:
        require_may_contact(deal.contact, action=CAMPAIGN_ACTION)
    for key, value in {**values, **results}.items():
        setattr(deal, key, value)
    changes = audit.changes_of(deal)
    if changes:
        _flush(deal)
        audit.record(actor, "update", deal, summary=f"Deal “{deal.title}” edited",
                     changes=changes)
    return changes


def record_results(actor, deal: Deal, data: dict, *, expected_version: int | None = None) -> dict:
    """Record the deliverables and results of a collaboration (also after it closed)."""
    return update_deal(actor, deal, {k: data[k] for k in RESULT_FIELDS if k in data},
                       expected_version=expected_version)


def _lost_reason(deal: Deal, stage: Stage, reason_id, note: str | None) -> LostReason:
    if reason_id in (None, ""):
        raise LostReasonRequired(deal, stage)
    reason = db.session.get(LostReason, int(reason_id))
    if reason is None or reason.retired_at is not None:
        raise ValidationFailed("Choose a reason from the list.", field="lost_reason_id")
    if reason.name.lower() == "other" and not note:
        raise ValidationFailed("Say in a few words why it was lost.", field="lost_note")
    return reason


def move_deal(actor, deal: Deal, stage_id, *, expected_version: int | None = None,
              lost_reason_id=None, lost_note: str | None = None, results: dict | None = None,
              now: datetime | None = None) -> bool:
    """Move a deal to another stage of its pipeline, keeping the history; returns False when
    it already was there. A lost stage needs a reason; a won stage may carry results."""
    _require_edit(actor, deal)
    _check_version(deal, expected_version)
    stage_id = int_or_none(stage_id)
    stage = db.session.get(Stage, stage_id) if stage_id is not None else None
    if stage is None or stage.pipeline_id != deal.pipeline_id:
        raise ValidationFailed("Choose a stage of this deal's pipeline.", field="stage_id")
    if stage.id == deal.stage_id:
        return False
    if stage.retired_at is not None:
        raise ValidationFailed(f"“{stage.name}” is retired; choose another stage.",
                               field="stage_id")
    note = _text(lost_note, 2000)
    if stage.outcome == LOST:
        deal.lost_reason_id = _lost_reason(deal, stage, lost_reason_id, note).id
        deal.lost_note = note
    else:
        deal.lost_reason_id = None
        deal.lost_note = None
    if stage.outcome == WON and results:
        for key, value in clean_results(results).items():
            setattr(deal, key, value)
    now = now or utcnow()
    before = deal.stage
    db.session.add(StageChange(deal_id=deal.id, from_stage_id=before.id, to_stage_id=stage.id,
                               actor_id=getattr(actor, "id", None), at=now,
                               seconds_in_from_stage=deal.seconds_in_stage(now)))
    deal.stage = stage
    deal.stage_entered_at = now
    deal.outcome = stage.outcome
    deal.closed_at = now if stage.outcome != OPEN else None
    _flush(deal)
    verb = {WON: "won", LOST: "lost"}.get(stage.outcome, "moved")
    audit.record(actor, "move", deal,
                 summary=f"Deal “{deal.title}” {verb}: {before.name} → {stage.name}",
                 changes={"stage": [before.name, stage.name],
                          "outcome": [before.outcome, stage.outcome]})
    outbox.deal_moved(deal, before)
    return True


def close_deal(actor, deal: Deal, outcome: str, **kwargs) -> bool:
    """Mark a deal won or lost: moves it to its pipeline's won or lost stage."""
    if outcome not in (WON, LOST):
        raise ValidationFailed("Choose won or lost.", field="outcome")
    stage = deal.pipeline.closing_stage(outcome)
    if stage is None:
        raise ValidationFailed(f"The pipeline “{deal.pipeline.name}” has no {outcome} stage; "
                               "ask an admin to add one.", field="outcome")
    return move_deal(actor, deal, stage.id, **kwargs)


def time_per_stage(deal: Deal, history: list[StageChange], now: datetime | None = None):
    """[(stage, seconds)] in the order first entered, the current stage counted up to now."""
    totals: dict[int, int] = {}
    stages: dict[int, Stage] = {}
    for change in sorted(history, key=lambda c: (c.at, c.id)):
        stages.setdefault(change.to_stage_id, change.to_stage)
        totals.setdefault(change.to_stage_id, 0)
        if change.from_stage_id is not None:
            stages.setdefault(change.from_stage_id, change.from_stage)
            totals[change.from_stage_id] = (totals.get(change.from_stage_id, 0)
                                            + (change.seconds_in_from_stage or 0))
    if deal.is_open:
        stages.setdefault(deal.stage_id, deal.stage)
        totals[deal.stage_id] = totals.get(deal.stage_id, 0) + deal.seconds_in_stage(now)
    # A closed deal's last (won or lost) stage is where it ended, not time spent.
    return [(stages[sid], seconds) for sid, seconds in totals.items()
            if deal.is_open or sid != deal.stage_id or seconds]
