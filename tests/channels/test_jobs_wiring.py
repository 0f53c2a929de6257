"""The whole road on the job queue (immediate in tests): Meta posts, the events job applies
it, the send job answers, the profile job names the sender."""
import pytest
from sqlalchemy import select

from crm.channels.models import ChannelEvent, OutboundSend
from crm.conversations.models import Conversation, Message
from crm.core.timeutil import utcnow
from crm.jobs.models import Job
from tests.channels.helpers import dm_event, make_channel, post_signed
from tests.channels.standin import graph  # noqa: F401  (the fixture)

pytestmark = pytest.mark.eager_jobs




def test_event_reply_and_profile_through_the_queue(auth, manager, client, db, graph):
    graph.profiles["1200000000000077"] = {"name": "Maya Chen", "username": "maya.makes"}
    channel = make_channel("instagram")
    db.session.commit()
    response = post_signed(client, channel, dm_event("instagram", "1200000000000077", "m_q1",
                                                     "Hello there", at=utcnow()))
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(ChannelEvent.status)) == "done"
    conv = db.session.scalars(select(Conversation)).one()
    contact = conv.contact
    assert contact.name == "Maya Chen"
    assert [h.handle for h in contact.handles] == ["maya.makes"]
    auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "Hi Maya!"})
    db.session.expire_all()
    assert db.session.scalar(select(OutboundSend.status)) == "sent"
    assert [m.body for m in db.session.scalars(select(Message).order_by(Message.id))] == [
        "Hello there", "Hi Maya!"]
    tasks = sorted(db.session.scalars(select(Job.task)))
    assert tasks == ["channels.events", "channels.profiles", "channels.send"]
    assert set(db.session.scalars(select(Job.status))) == {"done"}


def test_profile_username_of_a_known_creator_moves_the_conversation_there(client, db, graph,
                                                                          rep):
    from crm.contacts.models import Contact, SocialHandle
    from tests import factories
    known = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    known.handles.append(SocialHandle(platform="instagram", handle="maya.makes"))
    graph.profiles["1200000000000078"] = {"name": "Maya C.", "username": "Maya.Makes"}
    channel = make_channel("instagram")
    db.session.commit()
    post_signed(client, channel, dm_event("instagram", "1200000000000078", "m_q2", "Hi!",
                                          at=utcnow()))
    db.session.expire_all()
    conv = db.session.scalars(select(Conversation)).one()
    assert conv.contact_id == known.id
    assert conv.contact_owner_id == rep.id      # its copy of the owner moved with it
    assert db.session.scalars(select(Contact.name)).all() == ["Maya Chen"]
    assert db.session.scalars(select(SocialHandle.account_id)).all() == ["1200000000000078"]
    post_signed(client, channel, dm_event("instagram", "1200000000000078", "m_q3", "Again",
                                          at=utcnow()))
    db.session.expire_all()
    assert db.session.get(Conversation, conv.id).message_count == 2
