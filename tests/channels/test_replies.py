"""Replying from Rapport: consent gate, reply windows, the Send API on a stand-in, echoes."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.channels import replies
from crm.channels.models import Channel, OutboundSend
from crm.contacts import consent
from crm.conversations.models import Conversation, Message
from crm.core.timeutil import utcnow
from tests.channels.helpers import deliver, dm_event, make_channel
from tests.channels.standin import graph  # noqa: F401  (the fixture)
from tests.channels.standin import OUTSIDE_WINDOW, TOKEN_EXPIRED

PERSON = "1200000000000001"




def _conversation(client, db, channel, *, ago=timedelta(hours=1), person=PERSON, text="Hi!"):
    deliver(client, db, channel, dm_event(channel.kind, person, f"mid-in-{person}-{ago}", text,
                                          at=utcnow() - ago))
    return db.session.scalars(select(Conversation)).one()


def _messages(db):
    return db.session.scalars(select(Message).order_by(Message.id)).all()


def _send_all(db):
    for send_id in db.session.scalars(select(OutboundSend.id).where(
            OutboundSend.status == "sending")).all():
        replies.deliver(send_id)
        db.session.commit()


def test_reply_goes_through_the_send_api_and_its_echo_adds_nothing(auth, manager, client, db,
                                                                   graph):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel)
    page = auth.login(manager).get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "Reply window open — 22 h 59 min left" in page
    response = auth.login(manager).post(f"/conversations/{conv.id}/reply",
                                        data={"body": "Thanks — details soon ✨"})
    assert response.status_code == 302
    send = db.session.scalars(select(OutboundSend)).one()
    assert send.status == "sending" and _messages(db)[-1].direction == "in"
    _send_all(db)
    [posted] = graph.sent
    assert posted["recipient"] == {"id": PERSON} and posted["messaging_type"] == "RESPONSE"
    assert posted["message"]["text"] == "Thanks — details soon ✨"
    assert graph.requests[0][3] == "Bearer EAAG-access-token-for-tests-0001"
    inbound, sent = _messages(db)
    assert sent.direction == "out" and sent.author_id == manager.id
    assert sent.external_id == "m_standin0001" and sent.delivery_status == "sent"
    deliver(client, db, channel, dm_event("instagram", PERSON, "m_standin0001",
                                          "Thanks — details soon ✨", at=utcnow(), echo=True))
    assert len(_messages(db)) == 2
    assert db.session.get(Conversation, conv.id).state == "awaiting_reply"


def test_echo_arriving_before_the_send_api_answer_is_the_same_message(auth, manager, client,
                                                                      db, graph):
    channel = make_channel("messenger")
    conv = _conversation(client, db, channel)
    auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "On my way"})
    # Meta's echo comes first (the stand-in will answer with the same mid).
    deliver(client, db, channel, dm_event("messenger", PERSON, "m_standin0001", "On my way",
                                          at=utcnow(), echo=True))
    echo = _messages(db)[-1]
    assert echo.author_id == manager.id and echo.sender_name is None
    _send_all(db)
    assert len(_messages(db)) == 2
    send = db.session.scalars(select(OutboundSend)).one()
    assert send.status == "sent" and send.message_id == echo.id


def test_expired_token_fails_the_reply_in_words_and_marks_the_channel(auth, manager, client,
                                                                      db, graph):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel)
    auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "Hello"})
    graph.fail_with = TOKEN_EXPIRED
    _send_all(db)
    send = db.session.scalars(select(OutboundSend)).one()
    assert send.status == "failed" and "reconnect" in send.error
    assert db.session.get(Channel, channel.id).status == "needs_reconnecting"
    page = auth.login(manager).get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "needs reconnecting" in page and "Not sent" in page
    assert len(_messages(db)) == 1


def test_platform_refusal_is_shown_with_its_reason(auth, manager, client, db, graph):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel)
    auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "Hello"})
    graph.fail_with = OUTSIDE_WINDOW
    _send_all(db)
    send = db.session.scalars(select(OutboundSend)).one()
    assert send.status == "failed" and "reply window has closed" in send.error


def test_closed_window_refuses_before_anything_is_sent(auth, manager, client, db, graph):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel, ago=timedelta(hours=30))
    page = auth.login(manager).get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "Window closed" in page and "Your reply" not in page
    response = auth.login(manager).post(f"/conversations/{conv.id}/reply",
                                        data={"body": "late"}, follow_redirects=True)
    assert "Window closed" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboundSend)) == 0
    assert graph.sent == []


def test_human_agent_reply_within_7_days_when_enabled(auth, manager, client, db, graph):
    channel = make_channel("instagram", human_agent=True)
    conv = _conversation(client, db, channel, ago=timedelta(days=3))
    auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "Sorry for the wait"})
    _send_all(db)
    [posted] = graph.sent
    assert posted["messaging_type"] == "MESSAGE_TAG" and posted["tag"] == "HUMAN_AGENT"


def test_whatsapp_outside_24_hours_sends_a_template_with_variables(auth, manager, client, db,
                                                                   graph):
    channel = make_channel("whatsapp")
    from crm.channels.services import add_template
    template = add_template(None, channel, name="collab_followup", language="en_US",
                            body="Hi {{1}}, following up on {{2}}.")
    conv = _conversation(client, db, channel, person="16315551234", ago=timedelta(days=2))
    page = auth.login(manager).get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "only an approved template" in page and "collab_followup" in page
    client = auth.login(manager)
    client.post(f"/conversations/{conv.id}/reply", data={"body": "free text"})
    assert db.session.scalar(select(func.count()).select_from(OutboundSend)) == 0
    client.post(f"/conversations/{conv.id}/reply", data={
        "template_id": template.id, "template_params": ["Kerry", "the spring campaign"]})
    _send_all(db)
    [posted] = graph.sent
    assert posted["type"] == "template" and posted["to"] == "16315551234"
    assert posted["template"]["name"] == "collab_followup"
    assert [p["text"] for p in posted["template"]["components"][0]["parameters"]] == [
        "Kerry", "the spring campaign"]
    sent = _messages(db)[-1]
    assert sent.body == "Hi Kerry, following up on the spring campaign."
    assert sent.external_id == "wamid.standin0001"


def test_template_with_a_missing_variable_is_refused(auth, manager, client, db, graph):
    channel = make_channel("whatsapp")
    from crm.channels.services import add_template
    template = add_template(None, channel, name="collab_followup", language="en_US",
                            body="Hi {{1}}, following up on {{2}}.")
    conv = _conversation(client, db, channel, person="16315551234", ago=timedelta(days=2))
    response = auth.login(manager).post(f"/conversations/{conv.id}/reply", follow_redirects=True,
                                        data={"template_id": template.id,
                                              "template_params": ["Kerry", ""]})
    assert "Fill in all 2 variables" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(OutboundSend)) == 0


def test_opted_out_contact_is_refused_and_nothing_sent(auth, manager, client, db, graph):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel)
    consent.change_consent(None, conv.contact, status="opted_out", source="Asked in DM")
    db.session.commit()
    page = auth.login(manager).get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "Opted out — no outreach" in page
    response = auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "hi"})
    assert response.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(OutboundSend)) == 0
    assert graph.sent == []


def test_consent_withdrawn_while_sending_stops_the_send(auth, manager, client, db, graph):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel)
    auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "hi"})
    consent.change_consent(None, conv.contact, status="opted_out", source="Asked by email")
    db.session.commit()
    _send_all(db)
    assert graph.sent == []
    assert db.session.scalars(select(OutboundSend)).one().status == "failed"


def test_another_reps_conversation_is_404(auth, rep, other_rep, client, db, graph):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel)
    conv.contact.owner_id = other_rep.id
    db.session.commit()
    assert auth.login(rep).post(f"/conversations/{conv.id}/reply",
                                data={"body": "hi"}).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(OutboundSend)) == 0


def test_htmx_reply_answers_the_panel_fragment(auth, manager, client, db, graph, hx):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel)
    response = auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "hey"},
                                        headers=hx, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Sending…" in html and "hey" in html


def test_cannot_reply_on_a_hand_logged_conversation(auth, manager, client, db, graph):
    from tests import factories
    contact = factories.ContactFactory()
    from crm.conversations import ingest
    conv = ingest.conversation_for(contact, "instagram")
    db.session.commit()
    response = auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": "x"},
                                        follow_redirects=True)
    assert "did not come through a connected channel" in response.get_data(as_text=True)


def test_poll_answers_304_until_a_dm_arrives(auth, rep, client, db):
    channel = make_channel("instagram")
    db.session.commit()
    client = auth.login(rep)
    first = client.get("/live/dms")
    assert first.status_code == 200 and "HX-Trigger" not in first.headers
    version = first.headers["ETag"].strip('"')
    assert client.get(f"/live/dms?v={version}").status_code == 304
    deliver(client, db, channel, dm_event("instagram", PERSON, "m_live", "new!", at=utcnow()))
    changed = client.get(f"/live/dms?v={version}")
    assert changed.status_code == 200 and changed.headers["HX-Trigger"] == "dmsChanged"
    assert "<html" not in changed.get_data(as_text=True)


def test_htmx_reply_refused_keeps_the_panel_and_says_why(auth, manager, client, db, graph, hx):
    channel = make_channel("instagram")
    conv = _conversation(client, db, channel)
    response = auth.login(manager).post(f"/conversations/{conv.id}/reply", data={"body": " "},
                                        headers=hx)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Reswap"] == "none"
    assert "Write the reply." in html and 'hx-swap-oob="true"' in html and "<html" not in html
    assert db.session.scalar(select(func.count()).select_from(OutboundSend)) == 0
