"""POST /api/v1/messages: through the one ingestion service. Idempotent by external_id,
reply state follows, consent refuses outbound DMs to someone who opted out (and keeps the
refusal), inbound opt-outs are flagged, and a request is all or nothing."""
from datetime import timedelta

from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts import consent
from crm.contacts.models import Contact, SocialHandle
from crm.conversations.models import Conversation, Message
from crm.core.timeutil import utcnow
from crm.extensions import db
from tests import factories


def _at(minutes_ago: int) -> str:
    return (utcnow() - timedelta(minutes=minutes_ago)).isoformat() + "Z"


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _thread(contact_ref, *messages, **extra):
    return {"contact": contact_ref, "platform": "linkedin", "messages": list(messages), **extra}


def test_messages_for_a_contact_by_id_and_a_retry_adds_nothing(rep, api_as):
    contact = factories.ContactFactory(name="Lee Lin", owner_id=rep.id)
    api = api_as(rep)
    body = _thread({"id": contact.id},
                   {"direction": "in", "sent_at": _at(30), "body": "Interested?",
                    "external_id": "li-1"},
                   {"direction": "out", "sent_at": _at(20), "body": "Yes! Let's talk",
                    "external_id": "li-2"},
                   {"direction": "in", "sent_at": _at(10), "body": "Great, call me",
                    "external_id": "li-3"})
    first = api.post("/api/v1/messages", json=body)
    assert first.status_code == 201, first.json
    assert len(first.json["added"]) == 3 and first.json["duplicates"] == 0
    conv = db.session.get(Conversation, first.json["conversation_id"])
    assert conv.state == "needs_reply" and conv.message_count == 3
    assert conv.platform == "linkedin"
    out = db.session.scalar(select(Message).where(Message.external_id == "li-2"))
    assert out.author_id == rep.id
    again = api.post("/api/v1/messages", json=body)
    assert again.status_code == 200 and again.json["added"] == [] and \
        again.json["duplicates"] == 3
    assert _count(Message) == 3


def test_a_contact_by_handle_or_account_and_created_when_asked(rep, other_rep, api_as):
    api = api_as(rep)
    msg = {"direction": "in", "sent_at": _at(5), "body": "hi", "external_id": "x-1"}
    unknown = api.post("/api/v1/messages", json=_thread(
        {"handle": {"platform": "linkedin", "handle": "sam-lee"}}, msg))
    assert unknown.status_code == 404 and "create_contact" in unknown.json["detail"]
    made = api.post("/api/v1/messages", json=_thread(
        {"handle": {"platform": "linkedin", "handle": "sam-lee"}}, msg,
        create_contact={"name": "Sam Lee", "kind": "lead"}))
    assert made.status_code == 201 and made.json["contact_created"] is True
    contact = db.session.get(Contact, made.json["contact_id"])
    assert contact.owner_id == rep.id and contact.kind == "lead"
    by_handle = api.post("/api/v1/messages", json=_thread(
        {"handle": {"platform": "linkedin", "handle": "sam-lee"}},
        dict(msg, external_id="x-2"), create_contact={"name": "Not again"}))
    assert by_handle.json["contact_id"] == contact.id and by_handle.json["contact_created"] is False
    by_account = api.post("/api/v1/messages", json=_thread(
        {"account": {"platform": "x", "account_id": "987654"}}, dict(msg, external_id="x-3"),
        platform="x", create_contact={"name": "Xena"}))
    assert by_account.status_code == 201
    handle = db.session.scalar(select(SocialHandle).where(SocialHandle.account_id == "987654"))
    assert handle.contact_id == by_account.json["contact_id"]
    # Someone else's contact is not found (the same 404 as nobody), and not written to.
    theirs = factories.ContactFactory(name="Theo", owner_id=other_rep.id)
    factories.HandleFactory(contact=theirs, platform="linkedin", handle="theo-t")
    db.session.commit()
    hidden = api.post("/api/v1/messages", json=_thread(
        {"handle": {"platform": "linkedin", "handle": "theo-t"}}, dict(msg, external_id="x-4")))
    assert hidden.status_code == 404 and hidden.json["detail"] == unknown.json["detail"]
    assert api.post("/api/v1/messages", json=_thread(
        {"id": theirs.id}, dict(msg, external_id="x-5"))).status_code == 404


def test_outbound_to_someone_who_opted_out_is_refused_and_nothing_is_kept(rep, api_as):
    contact = factories.ContactFactory(name="Olive Out", owner_id=rep.id)
    consent.change_consent(None, contact, status="opted_out", source="Email")
    db.session.commit()
    resp = api_as(rep).post("/api/v1/messages", json=_thread(
        {"id": contact.id},
        {"direction": "in", "sent_at": _at(9), "body": "hello?", "external_id": "o-1"},
        {"direction": "out", "sent_at": _at(8), "body": "Our offer", "external_id": "o-2"}))
    assert resp.status_code == 409 and resp.mimetype == "application/problem+json"
    assert "opted out" in resp.json["detail"]
    assert _count(Message) == 0 and _count(Conversation) == 0
    # The refusal itself is kept, as on the pages (the dashboard counts them).
    assert db.session.scalar(select(AuditEvent.actor_id).where(
        AuditEvent.action == "outreach_refused")) == rep.id


def test_a_refusal_undoes_a_contact_created_for_it(rep, api_as):
    """All or nothing: the contact made for a refused request is not kept either."""
    resp = api_as(rep).post("/api/v1/messages", json=_thread(
        {"handle": {"platform": "linkedin", "handle": "new-person"}},
        {"direction": "in", "sent_at": _at(9), "body": "ok", "external_id": "n-1"},
        {"direction": "in", "sent_at": (utcnow() + timedelta(days=2)).isoformat() + "Z",
         "body": "from the future", "external_id": "n-2"},
        create_contact={"name": "New Person"}))
    assert resp.status_code == 422 and resp.json["errors"][0]["field"] == "sent_at"
    assert "Message 2" in resp.json["detail"]
    assert _count(Contact) == 0 and _count(Message) == 0


def test_an_inbound_opt_out_is_flagged(rep, api_as):
    contact = factories.ContactFactory(name="Stop Sam", owner_id=rep.id)
    resp = api_as(rep).post("/api/v1/messages", json=_thread(
        {"id": contact.id},
        {"direction": "in", "sent_at": _at(3), "body": "Please stop messaging me",
         "external_id": "s-1"}))
    assert resp.status_code == 201 and resp.json["opt_out_flagged"] is True
    conv = db.session.get(Conversation, resp.json["conversation_id"])
    assert conv.opt_out_message_id == resp.json["added"][0]["id"]


def test_one_bad_message_refuses_the_batch(rep, api_as):
    contact = factories.ContactFactory(name="Bad Batch", owner_id=rep.id)
    resp = api_as(rep).post("/api/v1/messages", json=_thread(
        {"id": contact.id},
        {"direction": "in", "sent_at": _at(3), "body": "fine", "external_id": "b-1"},
        {"direction": "sideways", "sent_at": _at(2), "body": "bad", "external_id": "b-2"}))
    assert resp.status_code == 422
    assert resp.json["errors"][0]["field"] == "messages.1.direction"
    assert _count(Message) == 0
    empty = api_as(rep).post("/api/v1/messages", json=_thread(
        {"id": contact.id},
        {"direction": "in", "sent_at": _at(3), "body": "  ", "external_id": "b-3"}))
    assert empty.status_code == 422 and empty.json["errors"][0]["field"] == "messages.0.body"
    two_refs = api_as(rep).post("/api/v1/messages", json=_thread(
        {"id": contact.id, "handle": {"platform": "x", "handle": "a"}},
        {"direction": "in", "sent_at": _at(3), "body": "x", "external_id": "b-4"}))
    assert two_refs.status_code == 422 and two_refs.json["errors"][0]["field"] == "contact.id"
