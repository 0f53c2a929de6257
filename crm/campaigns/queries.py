"""Finding campaigns by name or brand (campaigns are shared by the team)."""
from dataclasses import dataclass

from sqlalchemy import or_, select

from crm.campaigns.models import Campaign
from crm.extensions import db


@dataclass
class CampaignHit:
    id: int
    name: str
    brand: str | None


def find_campaigns(user, q: str, limit: int = 5) -> list[CampaignHit]:
    """The newest few live campaigns whose name or brand holds every word of `q`."""
    words = q.split()
    if not words or not (user and user.is_authenticated):
        return []
    stmt = (select(Campaign.id, Campaign.name, Campaign.brand)
            .where(Campaign.archived_at.is_(None),
                   *[or_(Campaign.name.icontains(w, autoescape=True),
                         Campaign.brand.icontains(w, autoescape=True)) for w in words])
            .order_by(Campaign.id.desc()).limit(limit))
    return [CampaignHit(*row) for row in db.session.execute(stmt)]
