"""Campaign rules: create and edit, add people (a deal in the campaign, through the consent
gate), and the figures a campaign page shows — only over the deals the viewer may see."""
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from crm import policy
from crm.audit import services as audit
from crm.campaigns.models import Campaign
from crm.contacts.consent import require_may_contact
from crm.contacts.models import Contact
from crm.core.errors import ValidationFailed
from crm.core.timeutil import utcnow
from crm.core.versions import expect_version, flush_or_conflict
from crm.extensions import db
from crm.pipeline import services as deals
from crm.pipeline.models import LOST, OPEN, WON, Deal, Stage

FIELDS = ("name", "brand", "starts_on", "ends_on", "budget_minor", "currency", "description",
          "owner_id")


def _clean(actor, data: dict) -> dict:
    out = {k: data[k] for k in FIELDS if k in data}
    for key in ("name", "brand", "description"):
        if key in out:
            out[key] = (out[key] or "").strip() or None
    if not out.get("name"):
        raise ValidationFailed("Give the campaign a name.", field="name")
    out["name"] = out["name"][:160]
    if out.get("brand"):
        out["brand"] = out["brand"][:160]
    starts, ends = out.get("starts_on"), out.get("ends_on")
    if isinstance(starts, date) and isinstance(ends, date) and ends < starts:
        raise ValidationFailed("The end date is before the start date.", field="ends_on")
    if out.get("budget_minor") is not None and out["budget_minor"] < 0:
        raise ValidationFailed("The budget cannot be negative.", field="budget_minor")
    out["currency"] = (out.get("currency") or "USD").upper()
    if out["currency"] not in deals.CURRENCIES:
        raise ValidationFailed("Choose a currency from the list.", field="currency")
    if "owner_id" in out:
        out["owner_id"] = int(out["owner_id"]) if out["owner_id"] not in (None, "") else None
        if out["owner_id"] and actor is not None and not policy.can_reassign(actor) \
                and out["owner_id"] != actor.id:
            raise ValidationFailed("Only managers can give a campaign to someone else.",
                                   field="owner_id")
    return out


def create_campaign(actor, data: dict) -> Campaign:
    """A new campaign; the person who creates it owns it unless a manager says otherwise."""
    values = _clean(actor, data)
    if not values.get("owner_id"):
        values["owner_id"] = getattr(actor, "id", None)
    campaign = Campaign(**values)
    db.session.add(campaign)
    db.session.flush()
    audit.record(actor, "create", campaign, summary=f"Campaign “{campaign.name}” created")
    return campaign


def _require_manage(actor, campaign: Campaign) -> None:
    if actor is not None and not policy.can_manage_campaign(actor, campaign):
        raise ValidationFailed("Only the campaign's owner or a manager can change it.")


def _conflict(campaign: Campaign) -> str:
    return (f"“{campaign.name}” was changed by someone else since you loaded the page. "
            "Your change was not saved; the campaign is shown as it is now.")


def _check_version(campaign: Campaign, expected_version: int | None) -> None:
    expect_version(campaign, expected_version, _conflict(campaign))


def _flush(campaign: Campaign) -> None:
    flush_or_conflict(_conflict(campaign))


def update_campaign(actor, campaign: Campaign, data: dict, *,
                    expected_version: int | None = None) -> dict:
    """Apply edited fields; refuses when someone else saved the campaign in between."""
    _require_manage(actor, campaign)
    _check_version(campaign, expected_version)
    for key, value in _clean(actor, data).items():
        setattr(campaign, key, value)
    changes = audit.changes_of(campaign)
    if changes:
        _flush(campaign)
        audit.record(actor, "update", campaign, summary=f"Campaign “{campaign.name}” edited",
                     changes=changes)
    return changes


def set_archived(actor, campaign: Campaign, archived: bool, *,
                 expected_version: int | None = None) -> None:
    _require_manage(actor, campaign)
    _check_version(campaign, expected_version)
    if archived and campaign.archived_at is None:
        campaign.archived_at = utcnow()
        _flush(campaign)
        audit.record(actor, "archive", campaign, summary=f"Campaign “{campaign.name}” archived")
    elif not archived and campaign.archived_at is not None:
        campaign.archived_at = None
        _flush(campaign)
        audit.record(actor, "restore", campaign, summary=f"Campaign “{campaign.name}” restored")


def add_to_campaign(actor, campaign: Campaign, contact, *, stage_id=None, value_minor=None,
                    deal: Deal | None = None) -> Deal:
    """Put someone in a campaign: attach their open deal, or open one. Refused (before
    anything is written) for a person who opted out or is do-not-contact."""
    require_may_contact(contact, action=deals.CAMPAIGN_ACTION)
    if campaign.archived_at is not None:
        raise ValidationFailed("This campaign is archived.")
    already = db.session.scalar(select(Deal).where(
        Deal.campaign_id == campaign.id, Deal.contact_id == contact.id, Deal.outcome == OPEN,
        Deal.archived_at.is_(None)).limit(1))
    if already is not None:
        raise ValidationFailed(f"{contact.name} is already in this campaign "
                               f"(“{already.title}”).", field="contact_id")
    if deal is not None:
        if deal.contact_id != contact.id:
            raise ValidationFailed("That deal belongs to someone else.", field="deal_id")
        deals.update_deal(actor, deal, {"campaign_id": campaign.id})
        return deal
    data = {"title": f"{campaign.name} — {contact.name}"[:200], "campaign_id": campaign.id,
            "currency": campaign.currency}
    if value_minor is not None:
        data["value_minor"] = value_minor
    elif contact.rate_per_post_minor:
        data["value_minor"] = contact.rate_per_post_minor
    return deals.create_deal(actor, contact, data, stage_id=stage_id)


def withdraw_from_campaign(actor, deal: Deal, reason: str) -> None:
    """Take back a deal that `add_to_campaign` opened (undoing it): the deal is archived, so
    it leaves the campaign, the board and the figures, and stays in the audit log."""
    if actor is not None and not policy.can_view_deal(actor, deal):
        raise ValidationFailed("You cannot change this deal.")
    deal.archived_at = utcnow()
    flush_or_conflict(deals.conflict_message(deal))
    audit.record(actor, "archive", deal, summary=f"Deal “{deal.title}” withdrawn: {reason}"[:255])


@dataclass
class Summary:
    deals: int = 0
    open_count: int = 0
    won_count: int = 0
    lost_count: int = 0
    open_value: int = 0
    spent: int = 0            # won deals in the campaign's currency
    other_currency: int = 0   # deals in another currency, left out of the sums
    reach: int = 0
    clicks: int = 0
    conversions: int = 0
    revenue: int = 0
    by_stage: dict = field(default_factory=dict)   # stage id -> (count, value)

    def remaining(self, budget):
        return None if budget is None else budget - self.spent

    def spent_percent(self, budget):
        if not budget:
            return None
        return min(100, round(100 * self.spent / budget))

    @property
    def win_rate(self):
        closed = self.won_count + self.lost_count
        return round(100 * self.won_count / closed) if closed else None


def summaries(user, campaigns) -> dict[int, Summary]:
    """Figures for several campaigns in one grouped query, over the deals `user` may see."""
    ids = [c.id for c in campaigns]
    out = {c.id: Summary() for c in campaigns}
    if not ids:
        return out
    currency = {c.id: c.currency for c in campaigns}
    rows = db.session.execute(
        select(Deal.campaign_id, Deal.stage_id, Deal.outcome, Deal.currency, func.count(),
               func.sum(Deal.value_minor), func.sum(Deal.reach), func.sum(Deal.clicks),
               func.sum(Deal.conversions), func.sum(Deal.revenue_minor))
        .where(Deal.campaign_id.in_(ids), Deal.archived_at.is_(None), policy.deal_scope(user))
        .group_by(Deal.campaign_id, Deal.stage_id, Deal.outcome, Deal.currency))
    for cid, stage_id, outcome, cur, count, value, reach, clicks, conv, revenue in rows:
        s = out[cid]
        value = int(value or 0)
        s.deals += count
        count_before, value_before = s.by_stage.get(stage_id, (0, 0))
        s.by_stage[stage_id] = (count_before + count,
                                value_before + (value if cur == currency[cid] else 0))
        if cur != currency[cid]:
            s.other_currency += count
        if outcome == OPEN:
            s.open_count += count
            s.open_value += value if cur == currency[cid] else 0
        elif outcome == WON:
            s.won_count += count
            if cur == currency[cid]:
                s.spent += value
                s.revenue += int(revenue or 0)
            s.reach += int(reach or 0)
            s.clicks += int(clicks or 0)
            s.conversions += int(conv or 0)
        elif outcome == LOST:
            s.lost_count += count
    return out


def campaign_deals(user, campaign: Campaign, limit: int = 300) -> list[Deal]:
    """The campaign's deals the user may see, by pipeline and stage (bounded)."""
    return list(db.session.scalars(
        select(Deal).join(Stage, Stage.id == Deal.stage_id)
        .options(joinedload(Deal.contact).selectinload(Contact.handles),
                 joinedload(Deal.contact).lazyload(Contact.tags), joinedload(Deal.lost_reason))
        .where(Deal.campaign_id == campaign.id, Deal.archived_at.is_(None),
               policy.deal_scope(user))
        .order_by(Deal.pipeline_id, Stage.position, Deal.stage_entered_at.desc())
        .limit(limit)).unique())

