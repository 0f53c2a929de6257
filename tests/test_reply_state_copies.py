"""The copies the reply state writes for others: each contact's latest outbound DM
(contacts.last_outbound_at) and when an automatic follow-up's DM was answered
(tasks.source_replied_at) stay equal to what the conversations and messages say, whichever
way a DM is logged, backdated, corrected or deleted."""
from datetime import timedelta

from sqlalchemy import func, select

from crm.contacts.models import Contact
from crm.conversations import ingest
from crm.conversations.ingest import IncomingMessage
from crm.conversations.models import Conversation, Message
from crm.core.timeutil import utcnow
from crm.tasks.followups import create_follow_ups
from crm.tasks.models import Task
from tests import factories


def copies_agree(db) -> None:
    latest = dict(db.session.execute(
        select(Conversation.contact_id, func.max(Conversation.last_outbound_at))
        .group_by(Conversation.contact_id)).all())
    for contact_id, kept in db.session.execute(select(Contact.id, Contact.last_outbound_at)):
        assert kept == latest.get(contact_id), contact_id
    for task_id, kept, replied in db.session.execute(
            select(Task.id, Task.source_replied_at, Message.replied_at)
            .outerjoin(Message, Message.id == Task.source_message_id)
            .where(Task.source_message_id.is_not(None))):
        assert kept == replied, task_id


def log(db, rep, conv, direction, at):
    [message] = ingest.ingest(rep, conv, [IncomingMessage(
        direction, at, "hello", author_id=rep.id if direction == "out" else None)]).added
    db.session.commit()
    return message


def test_logged_backdated_corrected_and_deleted_dms_keep_the_copies(db, rep):
    now = utcnow().replace(microsecond=0)
    contact = factories.ContactFactory(owner_id=rep.id)
    db.session.commit()
    first = ingest.conversation_for(contact, "instagram")
    second = ingest.conversation_for(contact, "tiktok")
    sent = log(db, rep, first, "out", now - timedelta(days=5))
    log(db, rep, second, "out", now - timedelta(days=6))
    assert db.session.get(Contact, contact.id).last_outbound_at == sent.sent_at
    assert create_follow_ups(now=now) == 2
    db.session.commit()
    copies_agree(db)
    reply = log(db, rep, first, "in", now - timedelta(days=1))        # answers the follow-up
    task = db.session.scalar(select(Task).where(Task.source_message_id == sent.id))
    assert task.source_replied_at == reply.sent_at
    copies_agree(db)
    log(db, rep, second, "in", now - timedelta(days=6, hours=-1))     # backdated: a replay
    copies_agree(db)
    ingest.correct(db.session.get(Message, reply.id), body="hi", direction="in",
                   sent_at=now - timedelta(days=2))
    db.session.commit()
    copies_agree(db)
    ingest.delete(db.session.get(Message, reply.id))                  # unanswered again
    db.session.commit()
    assert db.session.get(Task, task.id).source_replied_at is None
    ingest.delete(db.session.get(Message, sent.id))                   # the DM itself goes
    db.session.commit()
    assert db.session.get(Contact, contact.id).last_outbound_at == now - timedelta(days=6)
    copies_agree(db)
