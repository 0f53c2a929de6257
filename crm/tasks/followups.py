"""Automatic follow-ups: when our last DM got no reply for N days, the contact's owner gets
one task — once per unanswered message (a unique source_message_id), never for someone who
may not be contacted. Set-based, so it stays cheap with 100,000 conversations."""
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from crm.contacts.consent import may_contact
from crm.contacts.models import PLATFORM_LABELS, Contact
from crm.conversations.models import AWAITING_REPLY, OUTBOUND, Conversation, Message
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.pipeline.models import Deal, Pipeline
from crm.tasks.models import Task

DEFAULT_DAYS = 3


def _candidates(now: datetime, owner_id: int | None, lookback_days: int | None):
    """(conversation, message, author, contact, days, deal) rows that are due a follow-up."""
    # The contact's open deals decide the wait; the shortest pipeline setting wins.
    per_contact = (select(Deal.contact_id.label("contact_id"),
                          func.min(Pipeline.follow_up_days).label("days"),
                          func.max(Deal.id).label("deal_id"))
                   .join(Pipeline, Pipeline.id == Deal.pipeline_id)
                   .where(Deal.outcome == "open", Deal.archived_at.is_(None))
                   .group_by(Deal.contact_id).subquery())
    days = func.coalesce(per_contact.c.days, DEFAULT_DAYS)
    settings = sorted(set(db.session.scalars(select(Pipeline.follow_up_days).distinct()))
                      | {DEFAULT_DAYS})
    # One cut-off per distinct setting keeps the date arithmetic out of SQL (SQLite and PG agree).
    overdue = or_(*[and_(days == d, Conversation.last_outbound_at <= now - timedelta(days=d))
                    for d in settings])
    stmt = (select(Conversation.id, Conversation.platform, Message.id, Message.author_id,
                   Conversation.contact_id, days, per_contact.c.deal_id)
            .join(Contact, Contact.id == Conversation.contact_id)
            .join(Message, and_(Message.conversation_id == Conversation.id,
                                Message.direction == OUTBOUND,
                                Message.sent_at == Conversation.last_outbound_at,
                                Message.replied_at.is_(None), Message.deleted_at.is_(None)))
            .outerjoin(per_contact, per_contact.c.contact_id == Conversation.contact_id)
            .where(Conversation.state == AWAITING_REPLY,
                   Conversation.last_outbound_at <= now - timedelta(days=min(settings)),
                   overdue,
                   # mirrors may_contact, so opted-out people are not even read
                   Contact.archived_at.is_(None), Contact.do_not_contact.is_(False),
                   Contact.consent_status != "opted_out",
                   ~exists().where(Task.source_message_id == Message.id)))
    if owner_id is not None:
        stmt = stmt.where(Contact.owner_id == owner_id)
    if lookback_days is not None:
        stmt = stmt.where(Conversation.last_outbound_at
                          >= now - timedelta(days=max(settings) + lookback_days))
    latest = {}
    for row in db.session.execute(stmt):
        if row[0] not in latest or row[2] > latest[row[0]][2]:
            latest[row[0]] = row
    return list(latest.values())


def create_follow_ups(now: datetime | None = None, owner_id: int | None = None,
                      lookback_days: int | None = None) -> int:
    """Create the follow-up tasks that are due; returns how many were created. `owner_id`
    limits it to one owner's contacts, `lookback_days` to DMs that became due recently."""
    now = now or utcnow()
    rows = _candidates(now, owner_id, lookback_days)
    if not rows:
        return 0
    contacts = {c.id: c for c in db.session.scalars(
        select(Contact).options(lazyload(Contact.tags), lazyload(Contact.handles))
        .where(Contact.id.in_({r[4] for r in rows})))}
    tasks = []
    for _conv_id, platform, message_id, author_id, contact_id, days, deal_id in rows:
        contact = contacts[contact_id]
        if not may_contact(contact).allowed:   # the one consent rule has the last word
            continue
        label = PLATFORM_LABELS.get(platform, platform)
        tasks.append(Task(
            title=f"Follow up with {contact.name} on {label}",
            notes=f"No reply to our {label} DM for {days} days.",
            due_at=now, assignee_id=contact.owner_id or author_id, contact_id=contact.id,
            deal_id=deal_id, is_outreach=True, auto=True, source_message_id=message_id))
    return _insert(tasks)


def _insert(tasks: list[Task]) -> int:
    try:
        with db.session.begin_nested():
            db.session.add_all(tasks)
        return len(tasks)
    except IntegrityError:
        pass  # another run got some of them first: add the rest one by one
    created = 0
    for task in tasks:
        try:
            with db.session.begin_nested():
                values = {c.key: getattr(task, c.key) for c in Task.__table__.columns
                          if c.key not in ("id", "version")}
                db.session.add(Task(**{k: v for k, v in values.items() if v is not None}))
            created += 1
        except IntegrityError:
            pass
    return created
