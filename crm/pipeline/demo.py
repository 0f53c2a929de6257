"""Demo deals: ~120 across both pipelines, each with a believable stage history."""
from datetime import timedelta

from sqlalchemy import select

from crm.contacts.consent import may_contact
from crm.conversations.models import Conversation
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.pipeline.defaults import ensure_default_pipelines
from crm.pipeline.models import LOST, OPEN, WON, Deal, LostReason, Pipeline, StageChange

NEXT_STEPS = {
    "influencer": ["Send the brief", "Agree on the posting date", "Send the contract",
                   "Share the discount code", "Review the draft", "Confirm usage rights"],
    "sales": ["Book a demo", "Send the proposal", "Follow up on pricing", "Intro to their CTO",
              "Send the security questionnaire", "Agree on seat count"],
}
POSTS = {
    "instagram": ("Instagram Reel", "https://www.instagram.com/reel/"),
    "tiktok": ("TikTok video", "https://www.tiktok.com/@creator/video/"),
    "youtube": ("YouTube video", "https://www.youtube.com/watch?v="),
    "x": ("X post", "https://x.com/creator/status/"),
    "linkedin": ("LinkedIn post", "https://www.linkedin.com/feed/update/urn:li:activity:"),
}
TITLES = {
    "influencer": ["{campaign} — {first}", "{first} × sponsored post", "{first} UGC bundle",
                   "{first} — product seeding + review"],
    "sales": ["{company} — Team plan", "{company} pilot", "{company} annual licence",
              "{company} — 25 seats"],
}


def _target(rng, stages):
    """Which stage a demo deal ends up in: most are open, early stages the busiest."""
    open_stages = [s for s in stages if s.outcome == OPEN]
    roll = rng.random()
    if roll < .14:
        return next(s for s in stages if s.outcome == WON)
    if roll < .26:
        return next(s for s in stages if s.outcome == LOST)
    weights = [max(1, len(open_stages) - i) for i in range(len(open_stages))]
    return rng.choices(open_stages, weights=weights)[0]


def load(ctx) -> None:
    rng, now = ctx.rng, utcnow()
    ensure_default_pipelines()
    pipelines = {p.kind: p for p in db.session.scalars(select(Pipeline))}
    reasons = list(db.session.scalars(select(LostReason).where(LostReason.retired_at.is_(None))))
    campaigns = getattr(ctx, "campaigns", [])
    live = [c for c in campaigns if c.ends_on is None or c.ends_on >= now.date()]
    reps = ctx.users.get("rep", []) + ctx.users.get("manager", [])
    talking = set(db.session.scalars(select(Conversation.contact_id)))
    pool = [c for c in ctx.contacts if c.kind in ("influencer", "lead")]
    pool.sort(key=lambda c: (c.id not in talking, rng.random()))   # people we DM first
    for contact in pool[:120]:
        kind = "influencer" if contact.kind == "influencer" else "sales"
        pipeline = pipelines[kind]
        stages = pipeline.active_stages
        target = _target(rng, stages)
        allowed = may_contact(contact).allowed
        if not allowed and target.outcome == OPEN:
            target = next(s for s in stages if s.outcome == LOST)
        # Open deals sit in campaigns still running or coming; closed ones in started ones.
        fitting = live if target.outcome == OPEN else [
            c for c in campaigns if c.starts_on is None or c.starts_on <= now.date()]
        campaign = rng.choice(fitting) if (kind == "influencer" and fitting and allowed
                                           and rng.random() < .7) else None
        if kind == "influencer":
            value = contact.rate_per_post_minor or rng.choice([400, 800, 1500, 3000]) * 100
        else:
            value = contact.estimated_value_minor or rng.choice([3, 6, 12, 24]) * 100_000
        title = rng.choice(TITLES[kind]).format(
            campaign=campaign.name if campaign else "Collab", first=contact.first_name or
            contact.name, company=contact.company or contact.name)
        owner_id = contact.owner_id or rng.choice(reps).id
        opened = now - timedelta(days=rng.uniform(8, 110))
        deal = Deal(contact_id=contact.id, contact_owner_id=contact.owner_id,
                    pipeline_id=pipeline.id, stage_id=stages[0].id,
                    campaign_id=campaign.id if campaign else None, owner_id=owner_id,
                    title=title[:200], value_minor=value, currency="USD",
                    platform=contact.primary_handle.platform if contact.primary_handle else None,
                    created_at=opened, updated_at=opened, stage_entered_at=opened)
        db.session.add(deal)
        db.session.flush()
        db.session.add(StageChange(deal_id=deal.id, to_stage_id=stages[0].id, actor_id=owner_id,
                                   at=opened))
        _walk(rng, deal, stages, target, opened, now, owner_id)
        if target.outcome == LOST:
            deal.lost_reason_id = rng.choice(reasons).id if reasons else None
            if rng.random() < .4:
                deal.lost_note = rng.choice(["Went with an agency", "Budget frozen until Q3",
                                             "Asked for 3× our offer", "Stopped replying"])
        elif target.outcome == WON and kind == "influencer":
            handle = contact.primary_handle
            platform = handle.platform if handle else "instagram"
            deal.post_type = POSTS.get(platform, ("Other", "https://example.com/post/"))[0]
            deal.posted_url = (POSTS.get(platform, ("", "https://example.com/post/"))[1]
                               + str(rng.randint(10**9, 10**10 - 1)))
            deal.posted_on = (deal.closed_at - timedelta(days=rng.randint(1, 6))).date()
            followers = (handle.followers if handle and handle.followers else 50_000)
            deal.reach = int(followers * rng.uniform(.15, .9))
            deal.clicks = int(deal.reach * rng.uniform(.004, .03))
            deal.conversions = int(deal.clicks * rng.uniform(.02, .09))
            deal.revenue_minor = deal.conversions * rng.choice([29, 45, 60]) * 100
        elif target.outcome == OPEN and rng.random() < .6:
            deal.next_step = rng.choice(NEXT_STEPS[kind])
            deal.next_step_on = (now + timedelta(days=rng.randint(-2, 10))).date()
    db.session.flush()


def _walk(rng, deal, stages, target, opened, now, actor_id):
    """Move the deal stage by stage up to `target` (lost deals drop out along the way)."""
    open_stages = [s for s in stages if s.outcome == OPEN]
    if target.outcome == OPEN:
        path = open_stages[1:open_stages.index(target) + 1]
    elif target.outcome == WON:
        path = open_stages[1:] + [target]
    else:
        path = open_stages[1:rng.randint(1, len(open_stages))] + [target]
    span = (now - opened) * rng.uniform(.55, .95)
    at, current = opened, stages[0]
    for stage in path:
        step = span / (len(path) + 1) * rng.uniform(.5, 1.5)
        at = min(at + step, now - timedelta(hours=1))
        db.session.add(StageChange(deal_id=deal.id, from_stage_id=current.id, to_stage_id=stage.id,
                                   actor_id=actor_id, at=at,
                                   seconds_in_from_stage=int((at - deal.stage_entered_at)
                                                             .total_seconds())))
        deal.stage_id, deal.stage_entered_at, current = stage.id, at, stage
    deal.outcome = current.outcome
    deal.closed_at = deal.stage_entered_at if current.outcome != OPEN else None
    deal.updated_at = deal.stage_entered_at
