"""Finding deals by their title, within the viewer's deal scope."""
from dataclasses import dataclass

from sqlalchemy import select

from crm import policy
from crm.contacts.models import Contact
from crm.extensions import db
from crm.pipeline.models import Deal, Stage


@dataclass
class DealHit:
    id: int
    title: str
    outcome: str
    stage: str
    contact_name: str


def find_deals(user, q: str, limit: int = 5) -> list[DealHit]:
    """The newest few live deals whose title holds every word of `q`. A deal on someone
    else's contact shows that contact's name only, as on the board."""
    words = q.split()
    if not words:
        return []
    stmt = (select(Deal.id, Deal.title, Deal.outcome, Stage.name, Contact.name)
            .join(Stage, Stage.id == Deal.stage_id).join(Contact, Contact.id == Deal.contact_id)
            .where(policy.deal_scope(user), Deal.archived_at.is_(None),
                   *[Deal.title.icontains(w, autoescape=True) for w in words])
            .order_by(Deal.id.desc()).limit(limit))
    return [DealHit(*row) for row in db.session.execute(stmt)]
