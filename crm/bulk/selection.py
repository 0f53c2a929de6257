"""What a bulk action works on: the rows ticked on the page, or every row matching the
page's filters — always read again here, through the policy, never taken from the page."""
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import lazyload

from crm import policy
from crm.bulk.services import MAX_ROWS
from crm.contacts.models import Contact
from crm.contacts.queries import ContactFilters, filtered
from crm.conversations.models import Conversation
from crm.conversations.queries import InboxFilters, inbox_selection
from crm.core.errors import ValidationFailed
from crm.extensions import db



@dataclass
class Selection:
    rows: list
    missing: int = 0        # ticked ids that are gone, or not the user's to see
    ids: list = field(default_factory=list)


def _ids(raw) -> list[int]:
    return sorted({int(v) for v in raw if str(v).isdigit()})


def _too_many(noun: str) -> ValidationFailed:
    return ValidationFailed(f"A bulk action takes at most {MAX_ROWS} {noun} at a time, and this "
                            f"selection has more. Narrow the filters, or tick rows instead.",
                            field="scope")


def _nothing(noun: str) -> ValidationFailed:
    return ValidationFailed(f"No {noun} selected: tick some rows, or choose all {noun} "
                            "matching these filters.", field="ids")


def contacts(user, scope: str, ids, filters: ContactFilters) -> Selection:
    """The contacts a bulk action on the contacts list works on, in the list's name order."""
    if scope == "all":
        where, wanted = filtered(user, filters), []
    else:
        wanted = _ids(ids)
        if not wanted:
            raise _nothing("contacts")
        where = [policy.contact_scope(user), Contact.id.in_(wanted)]
    rows = list(db.session.scalars(
        select(Contact).options(lazyload(Contact.owner)).where(*where)
        .order_by(Contact.sort_name, Contact.id).limit(MAX_ROWS + 1)).unique())
    if len(rows) > MAX_ROWS:
        raise _too_many("contacts")
    if not rows:
        raise _nothing("contacts")
    return Selection(rows, missing=len(set(wanted) - {c.id for c in rows}) if wanted else 0)


def contact_where(user, scope: str, ids, filters: ContactFilters) -> list:
    """The WHERE clauses of the same selection, for the streamed export (no size limit)."""
    if scope == "all":
        return filtered(user, filters)
    wanted = _ids(ids)
    if not wanted:
        raise _nothing("contacts")
    return [policy.contact_scope(user), Contact.id.in_(wanted)]


def conversations(user, scope: str, ids, filters: InboxFilters) -> Selection:
    """The conversations a bulk action on the inbox works on, longest wait first."""
    base = inbox_selection(user, filters)
    if scope == "all":
        wanted = []
    else:
        wanted = _ids(ids)
        if not wanted:
            raise _nothing("conversations")
        base = (select(Conversation).join(Contact, Contact.id == Conversation.contact_id)
                .where(Conversation.id.in_(wanted), policy.contact_scope(user)))
    rows = list(db.session.scalars(
        base.order_by(Conversation.waiting_since, Conversation.id).limit(MAX_ROWS + 1)).unique())
    if len(rows) > MAX_ROWS:
        raise _too_many("conversations")
    if not rows:
        raise _nothing("conversations")
    return Selection(rows, missing=len(set(wanted) - {c.id for c in rows}) if wanted else 0)
