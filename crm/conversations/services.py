"""Conversation rules: logging messages, reply state, the needs-reply inbox."""
from sqlalchemy import func, select

from crm import policy
from crm.contacts.models import Contact
from crm.conversations.models import NEEDS_REPLY, Conversation
from crm.extensions import db

NAV_COUNT_CAP = 99


def needs_reply_count(user, cap: int = NAV_COUNT_CAP) -> int:
    """How many visible conversations wait on us, counted up to `cap`+1 (bounded cost)."""
    inner = (select(Conversation.id).join(Contact, Contact.id == Conversation.contact_id)
             .where(Conversation.state == NEEDS_REPLY, Contact.archived_at.is_(None),
                    policy.contact_scope(user))
             .limit(cap + 1).subquery())
    return db.session.scalar(select(func.count()).select_from(inner))
