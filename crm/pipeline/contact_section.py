"""The deals section of the contact page."""
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from crm import policy
from crm.contacts.page_sections import contact_panel
from crm.extensions import db
from crm.pipeline.models import Deal


@contact_panel("pipeline/_contact_panel.html", order=20)
def deals_panel(user, contact) -> dict:
    """The contact's deals (open first): one query. The quick "new deal" form is fetched
    when asked for (GET /deals/new?contact_id=… answers HTMX with it)."""
    scope = policy.deal_scope(user, contact)
    # Every deal of a contact the user may see is in scope: one statement for all, built once.
    stmt = _CONTACT_DEALS if scope is True else _deals_statement(scope)
    return {"deals": db.session.scalars(stmt, {"contact_id": contact.id}).all()}


def _deals_statement(scope):
    return (select(Deal).options(joinedload(Deal.campaign))
            .where(Deal.contact_id == bindparam("contact_id"), Deal.archived_at.is_(None), scope)
            .order_by((Deal.outcome != "open"), Deal.updated_at.desc()).limit(20))


_CONTACT_DEALS = _deals_statement(True)
