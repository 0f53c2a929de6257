"""A live DM from a person erased at their request is refused, said so in the audit log,
and the event keeps nothing of them."""
from datetime import timedelta

from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.channels.models import ChannelEvent
from crm.contacts.models import Contact
from crm.conversations.models import Message
from crm.core.timeutil import utcnow
from crm.privacy import services as privacy
from tests.channels.helpers import deliver, dm_event, make_channel

PERSON = "1200000000000777"


def test_a_live_dm_from_an_erased_person_is_refused(client, db, admin):
    channel = make_channel("instagram")
    db.session.commit()
    at = utcnow() - timedelta(minutes=5)
    deliver(client, db, channel, dm_event("instagram", PERSON, "mid.1", "hello there", at=at))
    contact = db.session.scalar(select(Contact))
    assert db.session.scalar(select(func.count()).select_from(Message)) == 1
    privacy.erase(admin, contact, "Asked by DM")
    db.session.commit()
    messages = db.session.scalar(select(func.count()).select_from(Message))

    deliver(client, db, channel, dm_event("instagram", PERSON, "mid.2",
                                          "it's me again, remember-this-line", at=utcnow()))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages
    assert db.session.scalar(select(func.count()).select_from(Contact).where(
        Contact.erased_at.is_(None))) == 0
    refused = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "refused"))
    assert "erased at their request" in refused.summary and PERSON not in refused.summary
    latest = db.session.scalar(select(ChannelEvent).order_by(ChannelEvent.id.desc()).limit(1))
    assert latest.status == "done" and PERSON.encode() not in latest.body
    assert b"remember-this-line" not in latest.body
    # Someone else on the same channel still comes in.
    deliver(client, db, channel, dm_event("instagram", "1200000000000888", "mid.3", "hi",
                                          at=utcnow()))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Contact).where(
        Contact.erased_at.is_(None))) == 1
