"""Inbound DMs that read like an opt-out: detection and one-click opt-out."""
import pytest
from sqlalchemy import select

from crm.contacts.models import ConsentEvent
from crm.conversations import services
from crm.conversations.models import Conversation
from crm.conversations.optout import find_stop_phrase, normalise
from crm.settings import services as settings
from tests import factories

PHRASES = ["stop", "unsubscribe", "not interested", "don't message me", "remove me"]


@pytest.mark.parametrize("body, words", [
    ("STOP", "STOP"),
    ("Please stop.", "stop"),
    ("ok, Unsubscribe!!", "Unsubscribe"),
    ("Honestly NOT   interested, thanks", "NOT   interested"),
    ("Nöt intérested", "Nöt intérested"),
    ("Don’t message me again", "Don’t message me"),
    ("DON`T MESSAGE ME", "DON`T MESSAGE ME"),
    ("Ｓｔｏｐ", "Ｓｔｏｐ"),
    ("please remove me from this", "remove me"),
])
def test_stop_phrases_match_whole_words_ignoring_case_and_accents(body, words):
    match = find_stop_phrase(body, PHRASES)
    assert match is not None and match.text == words


@pytest.mark.parametrize("body", ["unstoppable energy", "a stopover in Lisbon", "removement",
                                  "I am interested!", "dont", ""])
def test_other_text_is_not_an_opt_out(body):
    assert find_stop_phrase(body, PHRASES) is None


def test_normalise():
    assert normalise("  Ça  va’ bien\tÉTÉ ") == "ca va' bien ete"


@pytest.fixture
def contact(rep):
    return factories.ContactFactory(name="Maya Chen", owner_id=rep.id)


def test_an_opt_out_reply_flags_the_conversation(auth, rep, contact, hx, db):
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "Please STOP messaging me", "direction": "in", "platform": "instagram"})
    conv = db.session.scalars(select(Conversation)).one()
    assert conv.opt_out_message_id is not None
    html = resp.get_data(as_text=True)
    assert "This reads like an opt-out" in html and "Record opt-out" in html


def test_the_admin_list_decides(rep, contact, db):
    settings.put("stop_phrases", ["basta"])
    m = services.log_message(rep, contact, platform="x", direction="in", body="stop it")
    assert m.conversation.opt_out_message_id is None
    m = services.log_message(rep, contact, platform="x", direction="in", body="Basta!")
    assert m.conversation.opt_out_message_id == m.id


def test_one_click_opt_out_records_consent_with_the_message_as_evidence(auth, rep, contact, db):
    task = factories.TaskFactory(contact_id=contact.id, assignee_id=rep.id, is_outreach=True,
                                 title="Follow up with Maya")
    m = services.log_message(rep, contact, platform="instagram", direction="in",
                             body="pls STOP, not interested")
    db.session.commit()
    resp = auth.login(rep).post(f"/conversations/{m.conversation_id}/opt-out")
    assert resp.status_code == 302
    db.session.refresh(contact)
    assert contact.consent_status == "opted_out"
    event = db.session.scalars(select(ConsentEvent)).one()
    assert event.evidence_message_id == m.id
    assert event.source == "Replied “STOP” in Instagram DM"
    assert event.actor_id == rep.id
    db.session.refresh(task)
    assert task.status == "cancelled"
    conv = db.session.get(Conversation, m.conversation_id)
    assert conv.opt_out_message_id is None and conv.state == "closed"
    # Outreach is refused from now on.
    page = auth.client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Maya Chen opted out on" in page


def test_dismissing_keeps_consent_and_drops_the_flag(auth, rep, contact, db):
    m = services.log_message(rep, contact, platform="x", direction="in", body="stop by later?")
    db.session.commit()
    auth.login(rep).post(f"/conversations/{m.conversation_id}/not-opt-out")
    db.session.refresh(contact)
    assert contact.consent_status == "unknown"
    assert db.session.get(Conversation, m.conversation_id).opt_out_message_id is None
    assert db.session.scalars(select(ConsentEvent)).all() == []


def test_already_opted_out_contacts_are_not_flagged_again(rep, contact, db):
    from crm.contacts.consent import change_consent
    change_consent(None, contact, status="opted_out", source="email")
    m = services.log_message(rep, contact, platform="x", direction="in", body="STOP")
    assert m.conversation.opt_out_message_id is None


def test_opt_out_without_a_flag_changes_nothing(auth, rep, contact, db):
    m = services.log_message(rep, contact, platform="x", direction="in", body="hello")
    db.session.commit()
    resp = auth.login(rep).post(f"/conversations/{m.conversation_id}/opt-out",
                                follow_redirects=True)
    assert "no opt-out message to act on" in resp.get_data(as_text=True)
    db.session.refresh(contact)
    assert contact.consent_status == "unknown"
