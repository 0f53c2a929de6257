"""Logging DMs on a contact: the form, HTMX fragments, corrections, consent and duplicates."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts import consent
from crm.conversations import queries, services
from crm.conversations.models import Conversation, Message
from crm.core.errors import OutreachRefused, ValidationFailed
from crm.core.timeutil import local, utcnow
from crm.settings import services as settings
from tests import factories


@pytest.fixture
def contact(rep):
    c = factories.ContactFactory(name="Maya Chen", first_name="Maya", owner_id=rep.id)
    factories.HandleFactory(contact=c, platform="instagram", handle="maya.makes")
    return c


@pytest.fixture
def theirs(other_rep):
    """A contact of another rep, with a conversation that waits on them."""
    c = factories.ContactFactory(name="Otto's Lead", owner_id=other_rep.id)
    m = services.log_message(other_rep, c, platform="x", direction="in", body="hello Otto")
    return c, m


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def opt_out(contact, **kw):
    consent.change_consent(None, contact, status="opted_out", source="Asked by email", **kw)


# Logging --------------------------------------------------------------------------------
def test_log_inbound_with_htmx_returns_the_panel_and_triggers_the_badge(auth, rep, contact, hx,
                                                                       db):
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "Hi! Loved your post", "direction": "in", "platform": "instagram"})
    assert resp.status_code == 200
    assert resp.headers["HX-Trigger"] == "messageLogged"
    html = resp.get_data(as_text=True)
    assert "<html" not in html and 'id="conversations"' in html
    assert "Hi! Loved your post" in html and "Needs reply" in html
    message = db.session.scalars(select(Message)).one()
    assert (message.direction, message.author_id, message.logged_by_id) == ("in", None, rep.id)
    badge = auth.client.get("/inbox/count").get_data(as_text=True)
    assert 'id="nav-needs-reply"' in badge and ">1</span>" in badge


def _log_on_thread(client, contact, conv, shown_until, hx, **fields):
    data = {"body": "Sending the brief now", "direction": "out", "platform": conv.platform,
            "conversation_id": conv.id, "shown_until": shown_until or "", "confirm": "1",
            **fields}
    return client.post(f"/contacts/{contact.id}/messages", headers=hx, data=data)


def test_a_dm_logged_under_the_latest_message_is_appended_with_what_it_changed(
        auth, rep, contact, hx, db):
    first = services.log_message(rep, contact, platform="instagram", direction="in",
                                 body="Loved your post")
    conv = first.conversation
    page = auth.login(rep).get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert f'name="shown_until" type="hidden" value="{first.id}"' in page
    resp = _log_on_thread(auth.client, contact, conv, first.id, hx)
    assert resp.status_code == 200
    assert resp.headers["HX-Trigger"] == "messageLogged" and resp.headers["HX-Reswap"] == "none"
    html = resp.get_data(as_text=True)
    new = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
    # The new bubble goes at the end of the thread on screen, under the same day's heading.
    assert f'hx-swap-oob="beforeend:#thread-{conv.id}"' in html and f'id="msg-{new.id}"' in html
    assert "Sending the brief now" in html and "Loved your post" not in html
    assert "day-sep" not in html and 'id="conversations"' not in html and "<html" not in html
    # Out of band: the tab's count, the reply state and a fresh form that knows the new end.
    assert 'id="conv-tabs" aria-label="Conversations by platform" hx-swap-oob="true"' in html
    assert 'title="2 messages">2<' in html
    assert 'id="conv-status" hx-swap-oob="true"' in html and "Awaiting reply" in html
    assert 'id="log-dm"' in html and f'name="shown_until" type="hidden" value="{new.id}"' in html
    assert re.search(r'id="log-dir-in" name="direction" value="in"\s+checked', html)  # their turn
    assert "autofocus" in html and "Sending the brief now</textarea>" not in html
    # A message that came meanwhile is appended too, in order.
    services.log_message(rep, contact, platform="instagram", direction="in", body="Great!")
    db.session.commit()
    html = _log_on_thread(auth.client, contact, conv, new.id, hx,
                          body="Talk soon").get_data(as_text=True)
    assert html.index("Great!") < html.index("Talk soon") and "Sending the brief" not in html


def test_a_dm_logged_on_a_new_day_is_appended_under_its_own_heading(auth, rep, contact, hx,
                                                                     db):
    first = services.log_message(rep, contact, platform="instagram", direction="in",
                                 body="Loved your post", sent_at=utcnow() - timedelta(days=2))
    db.session.commit()
    resp = _log_on_thread(auth.login(rep), contact, first.conversation, first.id, hx)
    html = resp.get_data(as_text=True)
    assert resp.headers["HX-Reswap"] == "none" and 'id="conversations"' not in html
    assert 'class="day-sep"' in html and "Today" in html


def test_the_whole_panel_answers_when_the_thread_on_screen_is_not_its_end(
        auth, rep, contact, hx, db):
    first = services.log_message(rep, contact, platform="instagram", direction="in",
                                 body="Loved your post", sent_at=utcnow() - timedelta(days=2))
    conv = first.conversation
    db.session.commit()
    auth.login(rep)
    # No end known (an earlier page, the template tool's form): the panel.
    resp = _log_on_thread(auth.client, contact, conv, None, hx)
    assert 'id="conversations"' in resp.get_data(as_text=True) and "HX-Reswap" not in resp.headers
    latest = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
    # Backdated before the end on screen: the panel, with the message in its place.
    resp = _log_on_thread(auth.client, contact, conv, latest.id, hx, body="Backdated",
                          sent_at=local(utcnow() - timedelta(days=3), rep.timezone)
                          .strftime("%Y-%m-%dT%H:%M"))
    html = resp.get_data(as_text=True)
    assert 'id="conversations"' in html and "HX-Reswap" not in resp.headers
    assert html.index("Backdated") < html.index("Loved your post")
    # Another conversation's message as the end on screen: the panel.
    other = factories.ContactFactory(owner_id=rep.id)
    elsewhere = services.log_message(rep, other, platform="x", direction="in", body="hi")
    db.session.commit()
    resp = _log_on_thread(auth.client, contact, conv, elsewhere.id, hx)
    assert 'id="conversations"' in resp.get_data(as_text=True) and "HX-Reswap" not in resp.headers


def test_an_inbound_dm_that_reads_like_an_opt_out_brings_the_whole_panel(
        auth, rep, contact, hx, db):
    first = services.log_message(rep, contact, platform="instagram", direction="out",
                                 body="Hi Maya!")
    db.session.commit()
    html = _log_on_thread(auth.login(rep), contact, first.conversation, first.id, hx,
                          direction="in", body="Please stop messaging me").get_data(as_text=True)
    assert 'id="conversations"' in html and "This reads like an opt-out" in html


def test_log_without_javascript_redirects_back_to_the_conversation(auth, rep, contact, db):
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", data={
        "body": "Pitch", "direction": "out", "platform": "instagram"})
    conv = db.session.scalars(select(Conversation)).one()
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(
        f"/contacts/{contact.id}?conversation={conv.id}#conversations")
    page = auth.client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Pitch" in page and "Sent by Rae Rep" in page and "Awaiting reply" in page


def test_empty_message_is_a_form_error_and_nothing_is_written(auth, rep, contact, hx, db):
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "   ", "direction": "in", "platform": "instagram"})
    assert resp.status_code == 200
    assert "Paste the message text" in resp.get_data(as_text=True)
    assert count(db, Message) == 0 and count(db, Conversation) == 0


def test_media_only_message_is_shown_as_such(auth, rep, contact, hx, db):
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "", "media": "photo", "direction": "in", "platform": "instagram"})
    html = resp.get_data(as_text=True)
    assert "Photo" in html and "(no text)" in html
    assert db.session.scalars(select(Message)).one().media == "photo"


@pytest.mark.parametrize("data, field, words", [
    ({"body": "x" * 20001}, "body", "20,001 characters"),
    ({"body": "hi", "sent_at": "2999-01-01T10:00"}, "sent_at", "in the future"),
    ({"body": "hi", "sent_at": "yesterday"}, "sent_at", "such as 2026-03-14 09:30"),
    ({"body": "hi", "platform": "myspace"}, "platform", "Choose the platform"),
    ({"body": "hi", "direction": "sideways"}, "direction", "received or sent"),
])
def test_bad_input_names_the_field_and_writes_nothing(auth, rep, contact, hx, db, data, field,
                                                      words):
    form = {"direction": "in", "platform": "instagram", **data}
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data=form)
    assert resp.status_code == 200
    assert words in resp.get_data(as_text=True)
    assert count(db, Message) == 0


def test_a_refused_form_keeps_what_was_typed(auth, rep, contact, hx, db):
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "hi", "direction": "in", "platform": "tiktok", "media": "video",
        "sent_at": "yesterday"})
    html = resp.get_data(as_text=True)
    assert '<option selected value="tiktok">TikTok</option>' in html
    assert '<option selected value="video">Video</option>' in html
    assert 'id="log-when" name="sent_at" type="datetime-local" value="yesterday"' in html
    assert count(db, Message) == 0


def test_service_errors_name_their_field(rep, contact):
    with pytest.raises(ValidationFailed) as e:
        services.log_message(rep, contact, platform="instagram", direction="in", body="",
                             media=None)
    assert e.value.field == "body"
    with pytest.raises(ValidationFailed) as e:
        services.log_message(rep, contact, platform="instagram", direction="in", body="x",
                             template_id=1)
    assert e.value.field == "template_id"


def test_backdating_uses_the_users_time_zone(auth, rep, contact, db):
    rep.timezone = "Asia/Tokyo"
    when = (utcnow() - timedelta(days=2)).replace(second=0, microsecond=0)
    typed = local(when, "Asia/Tokyo").strftime("%Y-%m-%dT%H:%M")
    auth.login(rep).post(f"/contacts/{contact.id}/messages", data={
        "body": "from Tokyo", "direction": "in", "platform": "instagram", "sent_at": typed})
    assert db.session.scalars(select(Message)).one().sent_at == when


def test_the_form_remembers_the_last_platform(auth, rep, contact, db):
    auth.login(rep).post(f"/contacts/{contact.id}/messages", data={
        "body": "on tiktok", "direction": "in", "platform": "tiktok"})
    fresh = factories.ContactFactory(name="No Handles", owner_id=rep.id)
    page = auth.client.get(f"/contacts/{fresh.id}").get_data(as_text=True)
    assert '<option selected value="tiktok">' in page


def test_body_survives_a_round_trip_and_is_shown_safely(auth, rep, contact, hx, db):
    body = ("שלום 👋🏽 مرحبا\u200b\u200d zero\u2060width\n<script>alert(1)</script>\n"
            "see https://example.com/a?b=1&c=2 or javascript:alert(2)\n" + "é" * 19800)
    assert len(body) <= 20000
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": body, "direction": "in", "platform": "instagram"})
    assert db.session.scalars(select(Message)).one().body == body
    html = resp.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert ('<a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow"'
            in html)
    assert 'href="javascript' not in html
    assert "שלום 👋🏽 مرحبا\u200b\u200d zero\u2060width\n" in html   # line breaks kept as text


def test_log_into_the_open_thread_of_that_platform(auth, rep, contact, db):
    imported = services.get_or_create_conversation(contact, "instagram", "ig-thread-1")
    services.log_message(rep, contact, platform="instagram", direction="in", body="old",
                         conversation=imported)
    db.session.commit()
    auth.login(rep).post(f"/contacts/{contact.id}/messages", data={
        "body": "new", "direction": "out", "platform": "instagram",
        "conversation_id": str(imported.id)})
    assert count(db, Conversation) == 1
    db.session.refresh(imported)
    assert imported.message_count == 2 and imported.state == "awaiting_reply"


# Consent --------------------------------------------------------------------------------
def test_outbound_to_an_opted_out_contact_is_refused_and_nothing_is_written(auth, rep, contact,
                                                                           hx, db):
    opt_out(contact)
    db.session.commit()
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "One more pitch", "direction": "out", "platform": "instagram"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    today = contact.consent_changed_at.strftime("%d %b %Y")
    assert f"Maya Chen opted out on {today}" in html
    assert count(db, Message) == 0 and count(db, Conversation) == 0
    refusal = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "outreach_refused")).one()
    assert refusal.entity_id == contact.id


def test_outbound_refused_without_javascript_too(auth, rep, contact, db):
    consent.change_consent(None, contact, do_not_contact=True, source="Legal request")
    db.session.commit()
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", data={
        "body": "Pitch", "direction": "out", "platform": "instagram", "confirm": "1"})
    assert resp.status_code == 409
    assert "do-not-contact" in resp.get_data(as_text=True)
    assert count(db, Message) == 0
    refusals = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "outreach_refused")).all()
    assert len(refusals) == 1  # recorded once, by the app's handler


def test_the_service_refuses_before_writing(rep, contact, db):
    opt_out(contact)
    with pytest.raises(OutreachRefused) as e:
        services.log_message(rep, contact, platform="tiktok", direction="out", body="hi")
    assert "opted out" in e.value.message
    assert count(db, Conversation) == 0


def test_inbound_from_an_opted_out_contact_is_still_logged(auth, rep, contact, hx, db):
    opt_out(contact)
    db.session.commit()
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "Actually, tell me more", "direction": "in", "platform": "instagram"})
    html = resp.get_data(as_text=True)
    assert "Actually, tell me more" in html
    assert "Only messages they send can be logged" in html
    assert count(db, Message) == 1


def test_correcting_a_message_into_outbound_is_refused_for_opted_out(auth, rep, contact, db):
    m = services.log_message(rep, contact, platform="instagram", direction="in", body="hi")
    opt_out(contact)
    db.session.commit()
    resp = auth.login(rep).post(f"/messages/{m.id}/edit", data={
        "body": "hi", "direction": "out", "platform": "instagram"})
    assert resp.status_code == 409
    db.session.refresh(m)
    assert m.direction == "in"


# Duplicate-outreach guard ----------------------------------------------------------------
def test_recent_outbound_by_anyone_warns_and_logs_only_when_confirmed(auth, rep, other_rep,
                                                                     contact, hx, db):
    services.log_message(other_rep, contact, platform="tiktok", direction="out", body="Hey!",
                         sent_at=utcnow() - timedelta(days=2))
    db.session.commit()
    data = {"body": "Hi again", "direction": "out", "platform": "instagram"}
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data=data)
    html = resp.get_data(as_text=True)
    assert "Otto Other already messaged Maya Chen on TikTok 2 d ago" in html
    assert "Log it anyway" in html and "Hi again" in html
    assert "HX-Trigger" not in resp.headers
    assert count(db, Message) == 1
    resp = auth.client.post(f"/contacts/{contact.id}/messages", headers=hx,
                            data={**data, "confirm": "1"})
    assert resp.headers["HX-Trigger"] == "messageLogged"
    assert count(db, Message) == 2


def test_answering_their_message_never_warns(auth, rep, other_rep, contact, hx, db):
    template = factories.DMTemplateFactory(name="First pitch")
    services.log_message(other_rep, contact, platform="tiktok", direction="out", body="Hey!",
                         sent_at=utcnow() - timedelta(days=2), template_id=template.id)
    services.log_message(other_rep, contact, platform="tiktok", direction="in", body="Tell me more",
                         sent_at=utcnow() - timedelta(days=1))
    db.session.commit()
    assert services.outreach_warnings(contact, template.id) == []
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "Here is more", "direction": "out", "platform": "tiktok"})
    assert "already messaged" not in resp.get_data(as_text=True)
    assert resp.headers["HX-Trigger"] == "messageLogged"
    assert count(db, Message) == 3
    # Once answered, another unsolicited message within the window warns again.
    assert len(services.outreach_warnings(contact)) == 1


def test_outbound_outside_the_window_does_not_warn(rep, contact, db):
    services.log_message(rep, contact, platform="x", direction="out", body="old",
                         sent_at=utcnow() - timedelta(days=8))
    assert services.outreach_warnings(contact) == []
    settings.put("duplicate_window_days", 10)
    assert len(services.outreach_warnings(contact)) == 1


def test_same_template_warns_whenever_it_was_sent(rep, other_rep, contact, db):
    template = factories.DMTemplateFactory(name="First pitch")
    services.log_message(other_rep, contact, platform="x", direction="out", body="pitch",
                         sent_at=utcnow() - timedelta(days=60), template_id=template.id)
    warnings = services.outreach_warnings(contact, template.id, tz_name="UTC")
    assert len(warnings) == 1
    assert warnings[0].startswith("Maya Chen already got “First pitch” from Otto Other 60 d ago")
    other = factories.DMTemplateFactory()
    assert services.outreach_warnings(contact, other.id) == []


# Corrections -----------------------------------------------------------------------------
def test_edit_own_message_in_place(auth, rep, contact, hx, db):
    m = services.log_message(rep, contact, platform="instagram", direction="in", body="typo")
    db.session.commit()
    client = auth.login(rep)
    form = client.get(f"/messages/{m.id}/edit", headers=hx).get_data(as_text=True)
    assert "<html" not in form and "Save correction" in form and "typo" in form
    resp = client.post(f"/messages/{m.id}/edit", headers=hx, data={
        "body": "fixed", "direction": "in",
        "sent_at": local(m.sent_at, "UTC").strftime("%Y-%m-%dT%H:%M")})
    assert resp.headers["HX-Retarget"] == "#conversations"
    assert "fixed" in resp.get_data(as_text=True)
    db.session.refresh(m)
    assert m.body == "fixed" and m.edited_at is not None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "update",
                                                        AuditEvent.entity_type == "message")).one()
    assert event.changes["body"] == ["typo", "fixed"]


def test_delete_own_message_is_audited(auth, rep, contact, hx, db):
    m = services.log_message(rep, contact, platform="instagram", direction="in", body="oops")
    db.session.commit()
    resp = auth.login(rep).post(f"/messages/{m.id}/delete", headers=hx)
    assert resp.headers["HX-Trigger"] == "messageLogged"
    assert count(db, Message) == 0
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "delete")).one()
    assert event.changes["body"] == ["oops", None]
    assert services.needs_reply_count(rep) == 0


def test_someone_elses_entry_cannot_be_corrected_by_a_rep(auth, rep, other_rep, db):
    shared = factories.ContactFactory(owner_id=None)
    m = services.log_message(other_rep, shared, platform="x", direction="in", body="theirs")
    db.session.commit()
    client = auth.login(rep)
    assert client.get(f"/messages/{m.id}/edit").status_code == 404
    assert client.post(f"/messages/{m.id}/delete").status_code == 404
    assert count(db, Message) == 1


def test_a_manager_corrects_anyones_entry(auth, manager, rep, contact, db):
    m = services.log_message(rep, contact, platform="x", direction="in", body="hi")
    db.session.commit()
    resp = auth.login(manager).post(f"/messages/{m.id}/delete")
    assert resp.status_code == 302 and count(db, Message) == 0


def test_consent_evidence_cannot_be_deleted(auth, rep, contact, db):
    m = services.log_message(rep, contact, platform="x", direction="in", body="STOP")
    services.record_opt_out(rep, m.conversation)
    db.session.commit()
    resp = auth.login(rep).post(f"/messages/{m.id}/delete", follow_redirects=True)
    assert "evidence for a consent change" in resp.get_data(as_text=True)
    assert count(db, Message) == 1


# The thread ------------------------------------------------------------------------------
def test_thread_is_newest_last_with_day_separators_and_load_earlier(auth, rep, contact, hx, db):
    conv = services.get_or_create_conversation(contact, "instagram")
    start = (utcnow() - timedelta(days=3)).replace(hour=9, minute=0)
    for i in range(35):
        factories.MessageFactory(conversation=conv, direction="in" if i % 2 else "out",
                                 body=f"message number {i:02d}",
                                 sent_at=start + timedelta(hours=i // 20 * 24, minutes=i))
    services.rebuild_reply_state([conv.id])
    db.session.commit()
    client = auth.login(rep)
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    first = 35 - queries.THREAD_PAGE          # the oldest message the page opens with
    assert 0 < first < 20                      # (the thread spans both days)
    shown = [f"message number {i:02d}" for i in range(first, 35)]
    assert all(s in page for s in shown) and f"message number {first - 1:02d}" not in page
    assert page.index(f"message number {first:02d}") < page.index("message number 34")
    assert page.count('class="day-sep"') == 2
    assert "Load earlier messages" in page
    first_shown = db.session.scalars(select(Message).where(
        Message.body == f"message number {first:02d}")).one()
    earlier = client.get(f"/conversations/{conv.id}/earlier?before={first_shown.id}",
                         headers=hx).get_data(as_text=True)
    assert "<html" not in earlier
    assert ([f"message number {i:02d}" in earlier for i in range(first + 1)]
            == [True] * first + [False])
    assert "Load earlier messages" not in earlier
    # Same day as the first message already shown: its separator is removed out of band.
    assert f'id="daysep-{first_shown.id}" hx-swap-oob="delete"' in earlier
    # Without JavaScript the same page of older messages comes from the contact page.
    plain = client.get(f"/conversations/{conv.id}/earlier?before={first_shown.id}")
    assert plain.status_code == 302 and f"before={first_shown.id}" in plain.headers["Location"]
    older = client.get(plain.headers["Location"]).get_data(as_text=True)
    assert "message number 00" in older and f"message number {first:02d}" not in older
    assert "Show the latest messages" in older


def test_contact_page_queries_do_not_grow_with_history(auth, rep, contact, db, count_queries):
    conv = services.get_or_create_conversation(contact, "instagram")
    template = factories.DMTemplateFactory()
    client = auth.login(rep)

    def queries():
        services.rebuild_reply_state([conv.id])
        db.session.commit()
        with count_queries() as q:
            assert client.get(f"/contacts/{contact.id}").status_code == 200
        return q.count

    factories.MessageFactory.create_batch(3, conversation=conv, direction="out", author_id=rep.id)
    queries()   # the first visit may set up shared defaults (e.g. pipelines)
    few = queries()
    factories.MessageFactory.create_batch(200, conversation=conv, direction="out",
                                          author_id=rep.id, template_id=template.id)
    assert queries() == few


def test_switching_conversations_is_a_fragment(auth, rep, contact, hx, db):
    services.log_message(rep, contact, platform="instagram", direction="in", body="on insta")
    m = services.log_message(rep, contact, platform="tiktok", direction="in", body="on tiktok")
    db.session.commit()
    client = auth.login(rep)
    resp = client.get(f"/conversations/{m.conversation_id}", headers=hx)
    html = resp.get_data(as_text=True)
    assert "<html" not in html and "on tiktok" in html and "on insta" not in html
    plain = client.get(f"/conversations/{m.conversation_id}")
    assert plain.status_code == 302


def test_closing_from_the_inbox_returns_there(auth, rep, contact, db):
    m = services.log_message(rep, contact, platform="instagram", direction="in", body="thanks!")
    db.session.commit()
    resp = auth.login(rep).post(f"/conversations/{m.conversation_id}/close",
                                data={"next": "/inbox?platform=instagram"})
    assert resp.headers["Location"] == "/inbox?platform=instagram"
    assert services.needs_reply_count(rep) == 0
    evil = auth.client.post(f"/conversations/{m.conversation_id}/reopen",
                            data={"next": "https://evil.example/"})
    assert "evil" not in evil.headers["Location"]
    assert services.needs_reply_count(rep) == 1


# Permissions: another rep's conversation is 404 everywhere -----------------------------
def test_another_reps_conversation_is_404_everywhere(auth, rep, theirs, hx, db):
    contact, m = theirs
    conv_id = m.conversation_id
    template = factories.DMTemplateFactory()
    db.session.commit()
    client = auth.login(rep)
    for headers in ({}, hx):
        assert client.get(f"/conversations/{conv_id}", headers=headers).status_code == 404
        assert client.get(f"/conversations/{conv_id}/earlier?before={m.id}",
                          headers=headers).status_code == 404
        assert client.get(f"/messages/{m.id}/edit", headers=headers).status_code == 404
        assert client.get(f"/templates/use/{contact.id}?template_id={template.id}",
                          headers=headers).status_code == 404
    posts = [f"/contacts/{contact.id}/messages", f"/messages/{m.id}/edit",
             f"/messages/{m.id}/delete", f"/conversations/{conv_id}/close",
             f"/conversations/{conv_id}/reopen", f"/conversations/{conv_id}/opt-out",
             f"/conversations/{conv_id}/not-opt-out"]
    for url in posts:
        resp = client.post(url, headers=hx, data={"body": "x", "direction": "in",
                                                   "platform": "x"})
        assert resp.status_code == 404, url
    assert count(db, Message) == 1
    assert "0</span>" in client.get("/inbox/count").get_data(as_text=True)
    assert "Otto&#39;s Lead" not in client.get("/inbox").get_data(as_text=True)


def test_correcting_without_javascript_has_its_own_page(auth, rep, contact, db):
    m = services.log_message(rep, contact, platform="instagram", direction="in", body="teh")
    db.session.commit()
    client = auth.login(rep)
    page = client.get(f"/messages/{m.id}/edit").get_data(as_text=True)
    assert "<html" in page and "Correct a message" in page and "hx-post" not in page
    resp = client.post(f"/messages/{m.id}/edit", data={"body": "the", "direction": "in"})
    assert resp.status_code == 302
    db.session.refresh(m)
    assert m.body == "the"
    bad = client.post(f"/messages/{m.id}/edit", data={"body": "", "direction": "in"})
    assert bad.status_code == 200 and "Paste the message text" in bad.get_data(as_text=True)
    db.session.refresh(m)
    assert m.body == "the"


def test_opening_a_thread_sets_the_platform_of_the_form(auth, rep, contact, hx, db):
    services.log_message(rep, contact, platform="instagram", direction="in", body="a")
    m = services.log_message(rep, contact, platform="tiktok", direction="in", body="b")
    db.session.commit()
    html = auth.login(rep).get(f"/conversations/{m.conversation_id}",
                               headers=hx).get_data(as_text=True)
    assert '<option selected value="tiktok">' in html
    assert f'name="conversation_id" type="hidden" value="{m.conversation_id}"' in html


def test_without_javascript_errors_and_warnings_keep_what_was_typed(auth, rep, other_rep,
                                                                   contact, db):
    client = auth.login(rep)
    resp = client.post(f"/contacts/{contact.id}/messages", data={
        "body": "", "direction": "in", "platform": "instagram"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in page and "Paste the message text" in page
    services.log_message(other_rep, contact, platform="x", direction="out", body="earlier")
    db.session.commit()
    resp = client.post(f"/contacts/{contact.id}/messages", data={
        "body": "Second pitch", "direction": "out", "platform": "instagram"})
    page = resp.get_data(as_text=True)
    assert "<html" in page and "Log it anyway" in page and ">Second pitch</textarea>" in page
    assert count(db, Message) == 1


def test_the_session_cookie_is_sent_again_only_when_the_platform_used_changes(
        auth, rep, contact, hx, db):
    """The log form remembers the platform last used in the session: a DM on the same
    platform as the one before leaves the signed cookie as it is."""
    client = auth.login(rep)

    def log(platform):
        return client.post(f"/contacts/{contact.id}/messages", headers=hx, data={
            "body": "Hello", "direction": "in", "platform": platform})

    assert "Set-Cookie" in log("instagram").headers
    assert "Set-Cookie" not in log("instagram").headers
    assert "Set-Cookie" in log("tiktok").headers
