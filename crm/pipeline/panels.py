"""The deals section of the contact page."""
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm import policy
from crm.contacts.panels import contact_panel
from crm.extensions import db
from crm.pipeline.models import Deal


@contact_panel("pipeline/_contact_panel.html", order=20)
def deals_panel(user, contact) -> dict:
    """The contact's deals (open first): one query. The quick "new deal" form is fetched
    when asked for (GET /deals/new?contact_id=… answers HTMX with it)."""
    deals = db.session.scalars(
        select(Deal).options(joinedload(Deal.campaign))
        .where(Deal.contact_id == contact.id, Deal.archived_at.is_(None),
               policy.deal_scope(user, contact))
        .order_by((Deal.outcome != "open"), Deal.updated_at.desc()).limit(20)).all()
    return {"deals": deals}
