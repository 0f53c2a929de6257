"""The worker: every event lands once, in the right place, through the ingestion service."""
from datetime import timedelta

from sqlalchemy import func, select, update

from crm.channels.models import ChannelEvent
from crm.contacts.models import Contact, SocialHandle
from crm.conversations.models import Conversation, Message
from crm.core.timeutil import utcnow
from tests import factories
from tests.channels.helpers import (IDS, deliver, dm_event, latest_event_id, make_channel,
                                   payload, post_signed, run_worker)


def _messages(db):
    return db.session.scalars(select(Message).order_by(Message.sent_at, Message.id)).all()


def test_inbound_dm_creates_contact_conversation_and_needs_reply(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    deliver(client, db, channel, payload("instagram_text.json"))
    [message] = _messages(db)
    assert message.direction == "in" and "😍" in message.body
    conv = db.session.get(Conversation, message.conversation_id)
    assert conv.platform == "instagram" and conv.state == "needs_reply"
    contact = conv.contact
    assert contact.owner_id is None
    [handle] = contact.handles
    assert handle.platform == "instagram" and handle.account_id == "1200000000000001"
    assert db.session.scalar(select(ChannelEvent.status)) == "done"


def test_retries_of_the_same_event_add_nothing(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    for _ in range(3):
        deliver(client, db, channel, payload("instagram_text.json"))
    assert len(_messages(db)) == 1
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
    assert db.session.scalar(select(func.count()).select_from(ChannelEvent)) == 3


def test_known_sender_matched_by_scoped_id(client, db):
    channel = make_channel("instagram")
    contact = factories.ContactFactory(name="Known Creator")
    contact.handles.append(SocialHandle(platform="instagram", handle="known.creator",
                                        account_id="1200000000000001"))
    db.session.commit()
    deliver(client, db, channel, payload("instagram_text.json"))
    [message] = _messages(db)
    assert message.conversation.contact_id == contact.id
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1


def test_whatsapp_sender_matched_by_phone_and_named_from_profile(client, db):
    channel = make_channel("whatsapp")
    known = factories.ContactFactory(name="Kerry F.", phone="+1 (631) 555-1234")
    db.session.commit()
    deliver(client, db, channel, payload("whatsapp_text.json"))
    [message] = _messages(db)
    assert message.conversation.contact_id == known.id
    assert any(h.account_id == "16315551234" for h in known.handles)
    stranger = dm_event("whatsapp", "447700900123", "wamid.new1", "hello", at=utcnow())
    deliver(client, db, channel, stranger)
    new = db.session.scalar(select(Contact).where(Contact.id != known.id))
    assert new.name == "Kerry Fisher" and new.phone == "+447700900123"


def test_echo_from_the_phone_is_logged_as_sent_and_clears_needs_reply(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    deliver(client, db, channel, payload("instagram_text.json"))
    deliver(client, db, channel, payload("instagram_echo.json"))
    first, echo = _messages(db)
    assert echo.direction == "out" and echo.author_id is None
    assert "sent from the app" in echo.sender_name
    assert echo.conversation.state == "awaiting_reply"


def test_attachments_stickers_story_replies_shares_and_unsupported(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    deliver(client, db, channel, payload("instagram_attachments.json"))
    media = {m.external_id: (m.media, m.body) for m in _messages(db)}
    assert media["ig-mid-image"][0] == "photo" and media["ig-mid-sticker"][0] == "sticker"
    assert media["ig-mid-story-mention"][1].startswith("Mentioned you in their story")
    assert media["ig-mid-share"][0] == "share"
    assert len(media) == 6


def test_deleted_message_is_kept_as_deleted_and_reactions_add_nothing(auth, client, db, manager):
    channel = make_channel("instagram")
    db.session.commit()
    deliver(client, db, channel, payload("instagram_text.json"))
    deliver(client, db, channel, payload("instagram_reaction_read.json"))
    [message] = _messages(db)
    text = message.body
    for _ in range(2):      # Meta retries the delete: the same result
        deliver(client, db, channel, payload("instagram_deleted.json"))
    [message] = _messages(db)
    assert message.deleted_at is not None and message.body == ""
    conv = db.session.get(Conversation, message.conversation_id)
    assert (conv.state, conv.message_count) == ("closed", 0)
    auth.login(manager)
    page = client.get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "This message was deleted" in page
    assert text.split()[0] not in page and "Edit this message" not in page


def test_a_delete_before_its_message_and_echo_deletes(client, db):
    """Messenger: the unsend comes first (from a stranger), then the message, in any order."""
    channel = make_channel("messenger")
    db.session.commit()
    at = utcnow().replace(microsecond=0) - timedelta(minutes=3)
    person, page_id = "7000000000000011", IDS["messenger"]
    unsend = dm_event("messenger", person, "m_unsent", "", at=at)
    unsend["entry"][0]["messaging"][0]["message"] = {"mid": "m_unsent", "is_deleted": True}
    deliver(client, db, channel, unsend)
    deliver(client, db, channel, dm_event("messenger", person, "m_unsent", "a secret", at=at))
    deliver(client, db, channel, dm_event("messenger", person, "m_echo", "ours", at=at,
                                          echo=True))
    echo_unsend = dm_event("messenger", person, "m_echo", "", at=at, echo=True)
    echo_unsend["entry"][0]["messaging"][0]["message"] = {"mid": "m_echo", "is_deleted": True,
                                                          "is_echo": True}
    deliver(client, db, channel, echo_unsend)
    rows = {m.external_id: m for m in _messages(db)}
    assert set(rows) == {"m_unsent", "m_echo"}
    assert rows["m_unsent"].direction == "in" and rows["m_echo"].direction == "out"
    assert all(m.deleted_at is not None and m.body == "" for m in rows.values())
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
    assert page_id not in {h.account_id for c in db.session.scalars(select(Contact))
                           for h in c.handles}
    assert db.session.scalar(select(func.count()).select_from(ChannelEvent)
                             .where(ChannelEvent.status != "done")) == 0


def test_dashboard_test_event_is_stored(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    deliver(client, db, channel, payload("instagram_dashboard_test.json"))
    [message] = _messages(db)
    assert message.body == "random_text"


def test_opt_out_detected_on_a_live_dm(client, db):
    channel = make_channel("messenger")
    db.session.commit()
    deliver(client, db, channel, dm_event("messenger", "7000000000000009", "m_stop",
                                          "Please stop messaging me", at=utcnow()))
    [message] = _messages(db)
    assert message.conversation.opt_out_message_id == message.id


def test_whatsapp_statuses_only_move_forward_and_failures_keep_their_error(client, db):
    channel = make_channel("whatsapp")
    db.session.commit()
    now = utcnow()
    for mid in ("wamid.sent0001", "wamid.sent0002"):
        deliver(client, db, channel, dm_event("whatsapp", "16315551234", mid, "ours",
                                              at=now - timedelta(minutes=5), echo=True))
    deliver(client, db, channel, payload("whatsapp_statuses.json"))
    status = {m.external_id: (m.delivery_status, m.delivery_error) for m in _messages(db)}
    assert status["wamid.sent0001"][0] == "read"       # read came first, delivered after
    assert status["wamid.sent0002"][0] == "failed" and "24 hours" in status["wamid.sent0002"][1]


def test_messenger_delivery_and_read_watermark_update_our_messages(client, db):
    channel = make_channel("messenger")
    db.session.commit()
    deliver(client, db, channel, payload("messenger_echo_delivery_read.json"))
    [echo] = _messages(db)
    assert echo.direction == "out" and echo.delivery_status == "read"


def test_status_for_a_message_rapport_never_saw_is_dropped_after_its_last_try(client, db):
    channel = make_channel("whatsapp")
    db.session.commit()
    post_signed(client, channel, payload("whatsapp_statuses.json"))
    from crm.channels import worker
    for _ in range(worker.MAX_ATTEMPTS):
        db.session.execute(update(ChannelEvent).values(retry_at=None))
        db.session.commit()
        run_worker(db)
    assert _messages(db) == []
    assert db.session.scalar(select(ChannelEvent.status)) == "done"


def test_malformed_message_inside_a_signed_event_fails_that_event_only(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    future = dm_event("instagram", "1200000000000005", "m_future", "from the future",
                      at=utcnow() + timedelta(days=2))
    assert post_signed(client, channel, future).status_code == 200
    deliver(client, db, channel, payload("instagram_text.json"))
    assert [m.body[:3] for m in _messages(db)] == ["Hi!"]
    failed = db.session.scalars(select(ChannelEvent).order_by(ChannelEvent.id)).first()
    assert failed.status == "failed" and "future" in failed.error


def test_a_receipt_for_a_reply_still_being_stored_waits_and_is_applied(client, db):
    """A status may come before our send job stored the message: the event is retried."""
    from crm.channels import worker
    from crm.channels.models import OutboundSend
    from crm.conversations import ingest
    channel = make_channel("whatsapp")
    db.session.commit()
    deliver(client, db, channel, dm_event("whatsapp", "16315551234", "wamid.in1", "hi",
                                          at=utcnow()))
    conv = db.session.scalars(select(Conversation)).one()
    manager = factories.UserFactory(role="manager")
    send = OutboundSend(channel_id=channel.id, conversation_id=conv.id, author_id=manager.id,
                        recipient_id="16315551234", body="ours", status="sending")
    db.session.add(send)
    db.session.commit()
    status = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"statuses": [{"id": "wamid.ours", "status": "delivered",
                                                     "timestamp": "1764991101",
                                                     "recipient_id": "16315551234"}]}}]}]}
    assert post_signed(client, channel, status).status_code == 200
    event_id = latest_event_id(db)
    assert worker.apply_one(event_id) == 0
    assert db.session.get(ChannelEvent, event_id).attempts == 1
    ingest.ingest(None, conv, [ingest.IncomingMessage("out", utcnow(), "ours",
                                                      external_id="wamid.ours")])
    send.status = "sent"
    db.session.execute(update(ChannelEvent).values(retry_at=None))
    db.session.commit()
    run_worker(db)
    assert db.session.scalar(select(Message.delivery_status).where(
        Message.external_id == "wamid.ours")) == "delivered"


def test_one_app_serving_two_whatsapp_numbers_routes_by_phone_number_id(client, db):
    """Meta posts every number of an app to the one callback URL configured."""
    from crm.channels import services
    from tests.channels.helpers import ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN
    first = make_channel("whatsapp")
    second = services.add_channel(None, kind="whatsapp", name="Second number",
                                  app_secret=APP_SECRET, verify_token=VERIFY_TOKEN,
                                  access_token=ACCESS_TOKEN, account_id="102000000000001",
                                  phone_number_id="109000000000002")
    db.session.commit()
    body = dm_event("whatsapp", "16315550000", "wamid.route1", "to the second number",
                    at=utcnow())
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = "109000000000002"
    deliver(client, db, first, body)
    [message] = _messages(db)
    assert message.conversation.external_thread_id == f"meta:{second.id}:16315550000"


def test_a_failed_whatsapp_message_shows_its_error_in_the_thread(auth, manager, client, db):
    channel = make_channel("whatsapp")
    db.session.commit()
    for mid in ("wamid.sent0001", "wamid.sent0002"):
        deliver(client, db, channel, dm_event("whatsapp", "16315551234", mid, "ours",
                                              at=utcnow() - timedelta(minutes=5), echo=True))
    deliver(client, db, channel, payload("whatsapp_statuses.json"))
    conv = db.session.scalars(select(Conversation)).one()
    page = auth.login(manager).get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "not delivered: Re-engagement message" in page


def test_an_event_the_database_keeps_refusing_fails_instead_of_looping(client, db, monkeypatch):
    """A database error that does not pass (here: every apply raises OperationalError) is
    tried again with a growing wait, then given up with a message, and the drain ends."""
    from sqlalchemy.exc import OperationalError

    from crm.channels import worker
    channel = make_channel("instagram")
    db.session.commit()
    body = dm_event("instagram", "1789001", "mid.stuck", "hello", at=utcnow())
    assert post_signed(client, channel, body).status_code == 200
    event_id = latest_event_id(db)

    def refused(rows):
        raise OperationalError("INSERT INTO messages …", {}, Exception("disk I/O error"))

    monkeypatch.setattr(worker, "_apply_records", refused)
    waits = []
    for _ in range(worker.MAX_ATTEMPTS):
        db.session.execute(update(ChannelEvent).values(retry_at=None))
        db.session.commit()
        worker.drain(idle_wait=0)   # returns: the event waits for its next try, or failed
        db.session.expire_all()
        event = db.session.get(ChannelEvent, event_id)
        if event.status == "pending":
            waits.append((event.retry_at - utcnow()).total_seconds())
    assert event.status == "failed" and event.attempts == worker.MAX_ATTEMPTS
    assert "database refused it" in event.error
    assert len(waits) == worker.MAX_ATTEMPTS - 1 and waits == sorted(waits) and waits[0] > 0
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
