"""DM templates: writing them, their figures, and "Use template" on a contact."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.contacts import consent
from crm.conversations import services as conversations
from crm.conversations.models import Message
from crm.core.errors import Conflict, OutreachRefused, ValidationFailed
from crm.core.timeutil import utcnow
from crm.dm_templates import placeholders, services
from crm.dm_templates.models import DMTemplate
from tests import factories


@pytest.fixture
def contact(rep):
    c = factories.ContactFactory(name="Maya Chen", first_name="Maya", owner_id=rep.id)
    factories.HandleFactory(contact=c, platform="instagram", handle="maya.makes")
    return c


def templates_in_db(db):
    return db.session.scalar(select(func.count()).select_from(DMTemplate))


# Writing templates ------------------------------------------------------------------------
def test_create_a_template(auth, rep, db):
    resp = auth.login(rep).post("/templates/new", data={
        "name": "First pitch", "platform": "instagram",
        "body": "Hi {first_name}! I'm {my_name} — {campaign} on {platform}, {handle}, {name}"})
    assert resp.status_code == 302
    t = db.session.scalars(select(DMTemplate)).one()
    assert (t.name, t.platform, t.created_by_id) == ("First pitch", "instagram", rep.id)
    assert "First pitch" in auth.client.get("/templates").get_data(as_text=True)


@pytest.mark.parametrize("body, words", [
    ("Hi {firstname}!", "Unknown placeholder {firstname}. Use one of: {first_name}"),
    ("Hi {first_name} {Name} {x}", "Unknown placeholders {Name}, {x}."),
    ("Hi {{first_name}}", "Use single braces"),
    ("Hi {}", "Unknown placeholder {}."),
    ("", "Write the message text."),
])
def test_bad_placeholders_are_form_errors_naming_them(auth, rep, db, body, words):
    resp = auth.login(rep).post("/templates/new", data={"name": "Pitch", "body": body})
    assert resp.status_code == 200
    assert words in resp.get_data(as_text=True)
    assert templates_in_db(db) == 0


def test_edit_archive_and_restore(auth, rep, db):
    t = factories.DMTemplateFactory(created_by_id=rep.id, name="Old")
    db.session.commit()
    client = auth.login(rep)
    resp = client.post(f"/templates/{t.id}/edit", data={
        "name": "Renamed", "body": "Hey {first_name}", "platform": "", "version": t.version})
    assert resp.status_code == 302
    db.session.refresh(t)
    assert (t.name, t.body) == ("Renamed", "Hey {first_name}")
    client.post(f"/templates/{t.id}/archive")
    db.session.refresh(t)
    assert t.archived_at is not None
    card = f'id="template-{t.id}"'
    assert card not in client.get("/templates").get_data(as_text=True)
    assert card in client.get("/templates?archived=1").get_data(as_text=True)
    client.post(f"/templates/{t.id}/restore")
    db.session.refresh(t)
    assert t.archived_at is None


def test_a_stale_edit_is_a_conflict(rep, db):
    t = factories.DMTemplateFactory(created_by_id=rep.id)
    with pytest.raises(Conflict):
        services.update_template(rep, t, name="x", body="y", expected_version=t.version - 1)


def test_another_reps_template_cannot_be_changed(auth, rep, other_rep, manager, db):
    t = factories.DMTemplateFactory(created_by_id=other_rep.id, name="Otto's pitch")
    db.session.commit()
    client = auth.login(rep)
    assert client.get(f"/templates/{t.id}/edit").status_code == 404
    assert client.post(f"/templates/{t.id}/archive").status_code == 404
    assert "Otto&#39;s pitch" in client.get("/templates").get_data(as_text=True)
    with pytest.raises(ValidationFailed):
        services.archive_template(rep, t)
    auth.login(manager).post(f"/templates/{t.id}/archive")
    db.session.refresh(t)
    assert t.archived_at is not None


def test_each_template_shows_how_often_it_was_sent_and_its_reply_rate(auth, rep, contact, db,
                                                                      count_queries):
    t = factories.DMTemplateFactory(name="Pitch A")
    conv = conversations.get_or_create_conversation(contact, "instagram")
    for i in range(4):
        factories.MessageFactory(conversation=conv, direction="out", template_id=t.id,
                                 replied_at=utcnow() if i == 0 else None)
    assert services.usage([t.id]) == {t.id: (4, 1)}
    db.session.commit()
    client = auth.login(rep)
    html = client.get("/templates").get_data(as_text=True)
    assert "25%" in html

    def queries():
        db.session.commit()
        with count_queries() as q:
            client.get("/templates")
        return q.count

    few = queries()
    factories.DMTemplateFactory.create_batch(20)
    assert queries() == few


def test_a_reply_counts_for_the_template_that_was_answered(rep, contact, db):
    t = factories.DMTemplateFactory()
    conversations.log_message(rep, contact, platform="instagram", direction="out", body="pitch",
                              template_id=t.id, sent_at=utcnow() - timedelta(hours=3))
    assert services.usage([t.id]) == {t.id: (1, 0)}
    conversations.log_message(rep, contact, platform="instagram", direction="in", body="yes!")
    assert services.usage([t.id]) == {t.id: (1, 1)}


# Rendering ---------------------------------------------------------------------------------
def test_render_fills_every_placeholder(rep, contact, db):
    deal = factories.DealFactory(contact=contact, campaign=factories.CampaignFactory(
        name="Summer Glow"))
    assert deal.campaign_id
    t = factories.DMTemplateFactory(
        body="Hi {first_name} ({name}, {handle} on {platform}) — {my_name} re {campaign}")
    r = services.render_for_contact(rep, contact, t, platform="instagram")
    assert r.complete
    assert r.text == "Hi Maya (Maya Chen, @maya.makes on Instagram) — Rae Rep re Summer Glow"


def test_missing_values_are_listed_never_blank_or_braces(auth, rep, contact, hx, db):
    contact.first_name = None
    t = factories.DMTemplateFactory(body="Hi {first_name}, {handle} — {campaign} {first_name}")
    r = services.render_for_contact(rep, contact, t, platform="tiktok")
    assert r.missing == ["first_name", "handle", "campaign"]
    with pytest.raises(ValueError):
        r.text
    db.session.commit()
    url = f"/templates/use/{contact.id}?template_id={t.id}&platform=tiktok"
    html = auth.login(rep).get(url, headers=hx).get_data(as_text=True)
    assert "<html" not in html
    assert "No value for Maya Chen:</strong>\n      first name, handle, campaign." in html
    assert "{first_name}" not in html and "{handle}" not in html
    assert '<mark class="ph-missing">first name?</mark>' in html
    assert "Log as sent" not in html and 'name="fill-first_name"' in html
    filled = auth.client.get(url + "&fill-first_name=Maya&fill-handle=@maya.tt&fill-campaign=Fall",
                             headers=hx).get_data(as_text=True)
    assert "Hi Maya, @maya.tt — Fall Maya</textarea>" in filled
    assert "Log as sent" in filled and 'data-copy="#tpl-text"' in filled


def test_placeholder_edge_cases():
    r = placeholders.render("{ first_name }{first_name} {} {nope} 50% off :-} {", {
        "first_name": "Ana"})
    assert r.missing == ["", "nope"]
    assert placeholders.render("a{first_name}b", {"first_name": "  "}).missing == ["first_name"]
    assert placeholders.render("no placeholders", {}).text == "no placeholders"
    assert placeholders.render("{my_name}{my_name}", {"my_name": "Rae"}).text == "RaeRae"
    assert placeholders.problems("Save 20% {first_name} :-}") == []


def test_use_template_without_javascript_opens_the_contact_page(auth, rep, contact, db):
    t = factories.DMTemplateFactory(body="Hello {first_name}")
    db.session.commit()
    client = auth.login(rep)
    resp = client.get(f"/templates/use/{contact.id}?template_id={t.id}&platform=instagram")
    assert resp.status_code == 302 and "template_id" in resp.headers["Location"]
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Hello Maya</textarea>" in page and "Log as sent" in page


def test_the_contact_page_fetches_the_template_picker_when_the_tool_is_opened(
        auth, rep, contact, hx, db):
    factories.DMTemplateFactory(name="Intro", body="Hello {first_name}", platform="instagram")
    db.session.commit()
    client = auth.login(rep)
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    start = page.index('id="template-tool"')
    tool = page[start:page.index("</details>", start)]
    assert "Intro" not in tool and 'id="tpl-id"' not in tool
    assert f'hx-get="/templates/pick/{contact.id}?platform=instagram"' in tool
    assert 'hx-trigger="toggle once from:#template-tool"' in tool
    picker = client.get(f"/templates/pick/{contact.id}?platform=instagram", headers=hx)
    html = picker.get_data(as_text=True)
    assert picker.status_code == 200 and "<html" not in html
    assert "Intro (Instagram)</option>" in html and '<option value="instagram" selected>' in html
    assert f'hx-get="/templates/use/{contact.id}"' in html


def test_the_template_picker_without_javascript_is_the_contact_page_with_the_tool_open(
        auth, rep, contact, db):
    factories.DMTemplateFactory(name="Intro", body="Hello {first_name}")
    db.session.commit()
    client = auth.login(rep)
    resp = client.get(f"/templates/pick/{contact.id}")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/contacts/{contact.id}?templates=1#template-tool")
    page = client.get(f"/contacts/{contact.id}?templates=1").get_data(as_text=True)
    assert '<details class="tpl-tool" id="template-tool" open>' in page
    assert "Intro</option>" in page and 'id="tpl-id"' in page


def test_the_template_picker_follows_the_policy_and_consent(auth, rep, other_rep, contact, hx,
                                                            db):
    factories.DMTemplateFactory(name="Intro")
    theirs = factories.ContactFactory(owner_id=other_rep.id)
    consent.change_consent(None, contact, status="opted_out", source="DM")
    db.session.commit()
    client = auth.login(rep)
    assert client.get(f"/templates/pick/{theirs.id}", headers=hx).status_code == 404
    html = client.get(f"/templates/pick/{contact.id}", headers=hx).get_data(as_text=True)
    assert "Maya Chen opted out on" in html and "Templates cannot be used for them" in html
    assert "Intro" not in html


def test_logging_it_as_sent_records_the_template(auth, rep, contact, hx, db):
    t = factories.DMTemplateFactory(name="Pitch", body="Hello {first_name}")
    db.session.commit()
    resp = auth.login(rep).post(f"/contacts/{contact.id}/messages", headers=hx, data={
        "body": "Hello Maya", "direction": "out", "platform": "instagram",
        "template_id": str(t.id), "confirm": "1"})
    assert resp.headers["HX-Trigger"] == "messageLogged"
    message = db.session.scalars(select(Message)).one()
    assert (message.template_id, message.body) == (t.id, "Hello Maya")
    assert "Pitch" in resp.get_data(as_text=True)


def test_the_preview_warns_when_the_template_was_already_sent(auth, rep, contact, hx, db):
    t = factories.DMTemplateFactory(name="Pitch", body="Hello {first_name}")
    conversations.log_message(rep, contact, platform="instagram", direction="out", body="x",
                              template_id=t.id, sent_at=utcnow() - timedelta(days=30))
    db.session.commit()
    html = auth.login(rep).get(f"/templates/use/{contact.id}?template_id={t.id}",
                               headers=hx).get_data(as_text=True)
    assert "Maya Chen already got “Pitch” from Rae Rep 30 d ago" in html


def test_rendering_for_an_opted_out_contact_is_refused(auth, rep, contact, hx, db):
    t = factories.DMTemplateFactory()
    consent.change_consent(None, contact, status="opted_out", source="DM")
    db.session.commit()
    with pytest.raises(OutreachRefused):
        services.render_for_contact(rep, contact, t)
    client = auth.login(rep)
    resp = client.get(f"/templates/use/{contact.id}?template_id={t.id}", headers=hx)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Maya Chen opted out on" in html
    assert "Hi Maya" not in html
    page = client.get(f"/contacts/{contact.id}?template_id={t.id}")
    assert page.status_code == 409
    # The contact page itself offers no template for them.
    html = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Templates cannot be used for them" in html
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
