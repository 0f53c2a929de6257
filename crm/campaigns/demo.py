"""Demo campaigns: one running, one about to start, one finished."""
from datetime import timedelta

from crm.campaigns.models import Campaign
from crm.core.timeutil import utcnow
from crm.extensions import db

CAMPAIGNS = [
    # name, brand, starts (days from today), length (days), budget (major units), brief
    ("Spring glow launch", "Glow Theory", -20, 45, 18_000,
     "Launch of the Dewy Serum line: 1 reel + 3 stories per creator, beauty and wellness "
     "niches, 10k–300k followers. Posting window: weeks 3–5. Discount code GLOW15."),
    ("Summer fitness push", "Nimbus Fitness", 10, 60, 25_000,
     "App install push for the summer plans. TikTok and Instagram creators who train at home; "
     "one video each with a tracked link, whitelisting for 30 days."),
    ("Holiday gift guide 2025", "Sunday Supply", -340, 40, 12_000,
     "Gift-guide placements for the holiday season: carousel or blog post, affiliate links."),
]


def load(ctx) -> None:
    today = utcnow().date()
    owners = ctx.users.get("manager", []) + ctx.users.get("rep", [])
    ctx.campaigns = []
    for i, (name, brand, start, length, budget, brief) in enumerate(CAMPAIGNS):
        campaign = Campaign(name=name, brand=brand, starts_on=today + timedelta(days=start),
                            ends_on=today + timedelta(days=start + length),
                            budget_minor=budget * 100, currency="USD", description=brief,
                            owner_id=owners[i % len(owners)].id if owners else None)
        db.session.add(campaign)
        ctx.campaigns.append(campaign)
    db.session.flush()
