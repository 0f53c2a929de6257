"""People a batch of events is the first to hear of: looked up and taken in together, in a
number of statements that does not grow with how many they are; a sender made meanwhile by
someone else, or erased at their request, changes nothing of that."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.channels import people, worker
from crm.contacts.models import Contact, SocialHandle
from crm.conversations.models import Conversation, Message
from crm.core.timeutil import utcnow
from crm.privacy import services as privacy
from tests import factories
from tests.channels.helpers import dm_event, make_channel, post_signed


def _first_dms(client, channel, kind, people_ids, tag):
    at = utcnow() - timedelta(minutes=30)
    for i, person in enumerate(people_ids):
        response = post_signed(client, channel, dm_event(kind, person, f"mid.{tag}.{i}",
                                                         f"Hello from {person}", at=at))
        assert response.status_code == 200


def _drain_counting(db, count_queries) -> int:
    with count_queries() as q:
        worker.drain(idle_wait=0, batch=100)
    statements = [str(s).lstrip().upper() for s in q.statements]
    if db.engine.dialect.name == "sqlite":
        # SQLite cannot say which new row got which id in a many-row INSERT, so SQLAlchemy
        # writes rows one INSERT each there (in-process: no round trip). Everything else
        # must not grow.
        statements = [s for s in statements if not s.startswith("INSERT")]
    return len(statements)


@pytest.mark.parametrize("kind", ["instagram", "whatsapp"])
def test_new_senders_cost_the_batch_a_few_statements_not_some_each(client, db, count_queries,
                                                                   kind):
    channel = make_channel(kind)
    db.session.commit()
    first = "1300000000" if kind == "instagram" else "4477009"
    _first_dms(client, channel, kind, [f"{first}00{i:03d}" for i in range(5)], "a")
    few = _drain_counting(db, count_queries)
    _first_dms(client, channel, kind, [f"{first}01{i:03d}" for i in range(40)], "b")
    many = _drain_counting(db, count_queries)
    # The same statements for forty new people as for five (the lookups — on WhatsApp also
    # among WhatsApp handles and phones —, the contacts, their handles, audit events and
    # conversations each in one statement or one batch of rows); before, every new person
    # cost about fourteen.
    assert many <= few + 2, (few, many)

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 45
    for contact in db.session.scalars(select(Contact)):
        [handle] = contact.handles
        assert handle.platform == kind and handle.account_id == handle.handle
        assert contact.owner_id is None and contact.lead_source.endswith(" DM")
        if kind == "whatsapp":
            assert contact.phone == "+" + handle.account_id
            assert contact.phone_tail == handle.account_id[-9:]
        else:
            assert contact.name.endswith(handle.account_id[-6:])
        [conv] = db.session.scalars(select(Conversation).where(
            Conversation.contact_id == contact.id)).all()
        assert conv.state == "needs_reply" and conv.message_count == 1
        assert conv.external_thread_id == people.thread_id(channel, handle.account_id)
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "create", AuditEvent.entity_type == "contact",
            AuditEvent.entity_id == contact.id, AuditEvent.contact_id == contact.id)) == 1


def test_whatsapp_senders_of_one_batch_matched_by_handle_phone_or_made(client, db):
    channel = make_channel("whatsapp")
    by_handle = factories.ContactFactory(name="Handle Known")
    by_handle.handles.append(SocialHandle(platform="whatsapp", handle="+447700900001"))
    by_phone = factories.ContactFactory(name="Phone Known", phone="+44 7700 900-002")
    db.session.commit()
    _first_dms(client, channel, "whatsapp", ["447700900001", "447700900002", "447700900003"],
               "wa")
    worker.drain(idle_wait=0)
    db.session.expire_all()
    owners = {c.external_thread_id.rsplit(":", 1)[1]: c.contact
              for c in db.session.scalars(select(Conversation))}
    assert owners["447700900001"].id == by_handle.id
    assert owners["447700900002"].id == by_phone.id
    made = owners["447700900003"]
    assert made.id not in (by_handle.id, by_phone.id) and made.phone == "+447700900003"
    # The two known ones keep the scoped id for next time.
    for contact, wa_id in ((by_handle, "447700900001"), (by_phone, "447700900002")):
        assert wa_id in {h.account_id for h in db.session.get(Contact, contact.id).handles}
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 3


def test_a_sender_made_meanwhile_by_someone_else_is_matched(client, db, monkeypatch):
    """Between the batch's lookup and its insert another transaction made one of the senders
    (the scoped id is unique on its platform): the batch takes its people in one at a time
    instead, and nobody is made twice."""
    channel = make_channel("instagram")
    meanwhile = factories.ContactFactory(name="Made Meanwhile")
    meanwhile.handles.append(SocialHandle(platform="instagram", handle="1300000000000002",
                                          account_id="1300000000000002"))
    db.session.commit()
    looked_up = []
    real_lookup = people.by_scoped_ids

    def read_before_it_was_made(platform, person_ids):
        looked_up.append(sorted(person_ids))
        return {} if len(looked_up) == 1 else real_lookup(platform, person_ids)

    monkeypatch.setattr(people, "by_scoped_ids", read_before_it_was_made)
    _first_dms(client, channel, "instagram", ["1300000000000001", "1300000000000002"], "race")
    worker.drain(idle_wait=0)
    db.session.expire_all()
    assert looked_up and looked_up[0] == ["1300000000000001", "1300000000000002"]
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 2
    conv = db.session.scalar(select(Conversation).where(
        Conversation.external_thread_id == people.thread_id(channel, "1300000000000002")))
    assert conv.contact_id == meanwhile.id and conv.message_count == 1
    assert db.session.scalar(select(func.count()).select_from(Message)) == 2


def test_an_erased_sender_among_new_ones_is_refused_alone(client, db, admin):
    channel = make_channel("instagram")
    db.session.commit()
    _first_dms(client, channel, "instagram", ["1300000000000009"], "before")
    worker.drain(idle_wait=0)
    privacy.erase(admin, db.session.scalar(select(Contact)), "Asked by DM")
    db.session.commit()

    _first_dms(client, channel, "instagram",
               ["1300000000000007", "1300000000000009", "1300000000000008"], "after")
    worker.drain(idle_wait=0)
    db.session.expire_all()
    live = db.session.scalars(select(Contact).where(Contact.erased_at.is_(None))).all()
    assert sorted(h.account_id for c in live for h in c.handles) == [
        "1300000000000007", "1300000000000008"]
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "refused")) == 1
