"""The copies of a contact's owner kept beside its records, so that a scope by owner tests a
column of the record itself instead of looking up every record's contact:

- each deal's (`deals.contact_owner_id`): a rep's deal scope ("deals I own, or on a contact
  that is mine or unassigned", crm.policy.deal_scope);
- each conversation's (`conversations.contact_owner_id`): one owner's conversations, response
  times and waits on the dashboard (crm.policy.conversation_owner_scope).

A copy is written by whoever changes what it copies, in the same transaction: a deal takes
its contact's owner when it is opened (crm.pipeline.services.create_deal), a conversation
when it is made (crm.conversations.ingest, the DM export importer); reassigning or claiming
a contact, by hand or by a CSV import, call `follow` for the contacts whose owner changes,
and moving conversations to another contact (crm.channels.people) writes the new contact's.

A deal or conversation made at the very moment its contact is reassigned can keep the old
owner: it reads the owner before the reassignment commits, and the reassignment does not see
it yet. `flask reports rebuild-rollup` writes every copy again.
"""
from sqlalchemy import select, update

from crm.contacts.models import Contact
from crm.conversations.models import Conversation
from crm.extensions import db
from crm.pipeline.models import Deal

CHUNK = 500


def owner_of(contact_id):
    """The contact's owner as a scalar subquery, for a copy written with its row."""
    return select(Contact.owner_id).where(Contact.id == contact_id).scalar_subquery()


def follow(owners: dict) -> None:
    """The deals and conversations of these contacts take the owner each contact is about to
    get ({contact id: new owner id}). Called before the contacts' rows change: a DM holds its
    conversation, then its contact (crm.conversations.ingest.lock_many), so a reassignment
    takes them in the same order (the other order deadlocks on PostgreSQL)."""
    by_owner: dict = {}
    for contact_id, owner_id in owners.items():
        by_owner.setdefault(owner_id, []).append(contact_id)
    for owner_id, ids in sorted(by_owner.items(), key=lambda item: item[0] or 0):
        ids.sort()
        for model in (Deal, Conversation):
            for start in range(0, len(ids), CHUNK):
                db.session.execute(
                    update(model).where(model.contact_id.in_(ids[start:start + CHUNK]))
                    .values(contact_owner_id=owner_id)
                    .execution_options(synchronize_session=False))
    # Rows already loaded read the new owner next time they are used.
    for row in list(db.session.identity_map.values()):
        if isinstance(row, (Deal, Conversation)) and row.contact_id in owners:
            db.session.expire(row, ["contact_owner_id"])


def recount() -> None:
    """Every deal's and conversation's copy, from its contact (after a restore, or a load that
    went around the app: `flask reports rebuild-rollup`)."""
    db.session.flush()
    for model in (Deal, Conversation):
        db.session.execute(update(model).values(contact_owner_id=owner_of(model.contact_id))
                           .execution_options(synchronize_session=False))
    db.session.expire_all()
