"""Search (GET /search) and the command palette's fragment of it: contacts by name, @handle,
email, company or pasted profile URL; deals; campaigns; messages by their words; pages —
each scoped by the policy, and every query on an index with a LIMIT."""
import re

import pytest

from crm.contacts.services import refresh_search_text
from crm.conversations import search as message_search
from crm.search import services
from tests.factories import (CampaignFactory, ContactFactory, ConversationFactory, DealFactory,
                             HandleFactory, MessageFactory)


@pytest.fixture
def world(db, rep, other_rep):
    """Maya (the rep's), Unowned Una (anyone's), Otto's Olga (not the rep's)."""
    maya = ContactFactory(name="Maya Lindqvist", owner_id=rep.id, email="maya@makes.example",
                          company="Makes Studio")
    HandleFactory(contact=maya, platform="instagram", handle="maya.makes")
    refresh_search_text(maya)
    una = ContactFactory(name="Una Unowned", owner_id=None)
    olga = ContactFactory(name="Olga Others", owner_id=other_rep.id, company="Makes Studio")
    HandleFactory(contact=olga, platform="instagram", handle="olga.makes")
    refresh_search_text(olga)
    for contact, body in [(maya, "Can you send the invoice for the spring reel?"),
                          (una, "Loved the invoice template, thanks!"),
                          (olga, "Secret invoice for Olga only")]:
        conv = ConversationFactory(contact=contact)
        MessageFactory(conversation=conv, body=body)
    DealFactory(contact=maya, title="Spring reel for Makes", owner_id=rep.id)
    DealFactory(contact=olga, title="Spring launch with Olga", owner_id=other_rep.id)
    CampaignFactory(name="Spring launch", brand="Glow Theory")
    db.session.commit()
    return {"maya": maya, "una": una, "olga": olga}


def names(items, attr="name"):
    return sorted(getattr(x, attr) for x in items)


def test_a_rep_finds_only_what_the_policy_lets_them_see(world, rep):
    found = services.search(rep, "makes")
    assert names(found.contacts) == ["Maya Lindqvist"]
    assert names(found.deals, "title") == ["Spring reel for Makes"]
    invoices = services.search(rep, "invoice")
    assert names(invoices.messages, "contact_name") == ["Maya Lindqvist", "Una Unowned"]
    assert [d.title for d in services.search(rep, "spring").deals] == ["Spring reel for Makes"]


def test_a_manager_finds_everyone(world, manager):
    found = services.search(manager, "makes")
    assert names(found.contacts) == ["Maya Lindqvist", "Olga Others"]
    assert names(services.search(manager, "invoice").messages, "contact_name") == [
        "Maya Lindqvist", "Olga Others", "Una Unowned"]
    assert names(services.search(manager, "spring").deals, "title") == [
        "Spring launch with Olga", "Spring reel for Makes"]


@pytest.mark.parametrize("typed", ["@maya.makes", "@Maya.Makes",
                                   "https://www.instagram.com/maya.makes/",
                                   "instagram.com/maya.makes", "maya@makes.example",
                                   "makes studio"])
def test_a_handle_url_email_or_company_finds_the_person(world, rep, typed):
    assert names(services.search(rep, typed).contacts) == ["Maya Lindqvist"]


def test_message_words_match_whole_words_and_the_last_as_it_is_typed(world, manager):
    assert names(services.search(manager, "spring reel").messages, "contact_name") == [
        "Maya Lindqvist"]
    assert names(services.search(manager, "invo").messages, "contact_name") == [
        "Maya Lindqvist", "Olga Others", "Una Unowned"]
    # Only the last word is a prefix: "inv" alone is too short to be one.
    assert services.search(manager, "in").messages == []
    # Quotes, stars and operators are not query syntax, only words.
    assert len(services.search(manager, 'invoice" OR * NEAR(').messages) == 0
    assert len(services.search(manager, '"invoice*"').messages) == 3


def test_an_edited_or_deleted_message_is_found_by_its_new_words_only(world, manager, db):
    from crm.conversations.models import Message
    message = db.session.query(Message).filter(Message.body.contains("Secret")).one()
    message.body = "Rewritten words entirely"
    db.session.commit()
    assert services.search(manager, "secret").messages == []
    assert len(services.search(manager, "rewritten").messages) == 1
    db.session.delete(message)
    db.session.commit()
    assert services.search(manager, "rewritten").messages == []


@pytest.mark.parametrize("index_first_up_to", [0, 2, 3, 50])
def test_messages_are_the_newest_in_scope_however_common_the_words(world, db, rep, manager,
                                                                   monkeypatch,
                                                                   index_first_up_to):
    """PostgreSQL reads rare words' messages from the index, common ones by walking the
    messages backwards: either way the newest few in the viewer's scope, the same ones."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite walks FTS5's rowids backwards whatever the words")
    monkeypatch.setattr(message_search, "INDEX_FIRST_UP_TO", index_first_up_to)
    assert names(services.search(rep, "invoice").messages, "contact_name") == [
        "Maya Lindqvist", "Una Unowned"]
    newest = [m.contact_name for m in message_search.find_messages(manager, "invoice", limit=2)]
    assert newest == ["Olga Others", "Una Unowned"]
    assert message_search.find_messages(manager, "nothingsaysthis") == []


def test_the_excerpt_shows_the_words_found():
    body = "word " * 60 + "the invoice is here " + "tail " * 40
    cut = message_search.excerpt(body, ["invoice"])
    assert "invoice" in cut and cut.startswith("…") and cut.endswith("…")
    assert len(cut) <= message_search.EXCERPT + 2


def test_pages_by_name_and_admin_pages_for_admins_only(world, rep, admin):
    assert [p.label for p in services.search(rep, "inbox").pages] == ["Inbox"]
    assert services.search(rep, "audit").pages == []
    assert [p.label for p in services.search(admin, "audit").pages] == ["Audit log"]


def test_campaigns_by_name_or_brand(world, rep):
    assert [c.name for c in services.search(rep, "glow").campaigns] == ["Spring launch"]


def test_the_page_works_without_javascript(world, auth, rep):
    client = auth.login(rep)
    resp = client.get("/search?q=%40maya.makes")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in html
    assert f'href="/contacts/{world["maya"].id}"' in html
    assert 'role="listbox"' not in html           # a page of links, not a widget
    assert "Olga" not in html
    assert 'name="q" value="@maya.makes"' in html


def test_the_palette_gets_a_listbox_fragment(world, auth, rep):
    client = auth.login(rep)
    resp = client.get("/search?q=invoice&palette=1", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert 'role="listbox" id="palette-listbox"' in html
    options = re.findall(r'role="option"[^>]*id="([^"]+)"', html)
    assert options == ["palette-messages-1", "palette-messages-2", "palette-all"]
    assert f'href="/contacts/{world["maya"].id}?conversation=' in html
    assert "Secret" not in html
    assert "HX-Request" in resp.headers.get("Vary", "")


@pytest.mark.parametrize("q,message", [("", "Search contacts by name"),
                                       ("m", "Type at least 2 characters"),
                                       ("x" * 101, "at most 100 characters"),
                                       ("zzzz-nothing", "Nothing you can see matches")])
def test_an_empty_short_long_or_unmatched_query_says_so(world, auth, rep, q, message):
    client = auth.login(rep)
    for headers in ({}, {"HX-Request": "true"}):
        resp = client.get("/search", query_string={"q": q, "palette": "1"}, headers=headers)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200 and message in html
        assert 'role="option"' not in html


def test_the_palette_is_on_every_page_for_signed_in_users_only(world, auth, client, rep):
    assert 'id="palette"' not in client.get("/login").get_data(as_text=True)
    html = auth.login(rep).get("/contacts").get_data(as_text=True)
    assert 'id="palette"' in html and 'id="shortcuts"' in html
    assert 'src="/static/js/palette.js"' in html and 'src="/static/js/shortcuts.js"' in html


def test_signed_out_search_asks_to_sign_in(client):
    resp = client.get("/search?q=maya")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_each_query_is_limited(world, auth, manager, app):
    from sqlalchemy import event

    from crm.extensions import db
    statements = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        auth.login(manager).get("/search?q=spring&palette=1", headers={"HX-Request": "true"})
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    searching = [s for s in statements if re.search(r"LIKE|MATCH|@@", s)
                 and not re.search(r"count\(\*\)", s)]   # SQLite's "few matches?" probe
    assert len(searching) == 4, searching     # contacts, deals, campaigns, messages
    assert all(re.search(r"LIMIT", s) for s in searching), searching
