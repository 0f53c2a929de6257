"""Each deal's copy of its contact's owner (`deals.contact_owner_id`), so that a rep's deal
scope ("deals I own, or on a contact that is mine or unassigned") tests two columns of the
deal instead of looking up every deal's contact (crm.policy.deal_scope).

The copy is written by whoever changes what it copies, in the same transaction: a deal takes
its contact's owner when it is opened (crm.pipeline.services.create_deal), and reassigning
or claiming a contact, by hand or by a CSV import, calls `follow` for the contacts whose
owner changed.
"""
from sqlalchemy import select, update

from crm.contacts.models import Contact
from crm.extensions import db
from crm.pipeline.models import Deal

CHUNK = 500


def follow(contact_ids) -> None:
    """The deals of these contacts take their contact's current owner (after a flush)."""
    ids = sorted(set(contact_ids))
    if not ids:
        return
    db.session.flush()
    owner = select(Contact.owner_id).where(Contact.id == Deal.contact_id).scalar_subquery()
    for start in range(0, len(ids), CHUNK):
        db.session.execute(
            update(Deal).where(Deal.contact_id.in_(ids[start:start + CHUNK]))
            .values(contact_owner_id=owner).execution_options(synchronize_session=False))
    # Deals already loaded read the new owner next time they are used.
    for deal in [o for o in db.session.identity_map.values() if isinstance(o, Deal)]:
        if deal.contact_id in ids:
            db.session.expire(deal, ["contact_owner_id"])
