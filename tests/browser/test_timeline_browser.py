"""A contact's timeline in the browser: "Older" pages back in place, a note added at its top
shows in it, and the section at desktop and phone width has no serious axe-core violation."""
from datetime import datetime, timedelta

from playwright.sync_api import expect

from crm.contacts import services as contacts
from crm.contacts.consent import change_consent
from crm.tasks import services as tasks
from tests import factories
from tests.browser.conftest import SCREENSHOTS, wait_for_htmx
from tests.browser.test_every_page import _axe, _wider_than_screen


def busy_contact(db, rep):
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    conv = factories.ConversationFactory(contact=contact, platform="instagram")
    start = datetime(2026, 11, 2, 9, 0)
    for i in range(20):
        factories.MessageFactory(conversation=conv, direction="in" if i % 2 else "out",
                                 author_id=None if i % 2 else rep.id,
                                 body=f"Message number {i:02d} about the spring reel",
                                 sent_at=start + timedelta(hours=i))
    change_consent(rep, contact, status="opted_in", source="Said yes in a DM")
    task = tasks.create_task(rep, {"title": "Send the brief", "due_at": start + timedelta(days=3),
                                   "contact_id": contact.id})
    tasks.complete_task(rep, task)
    contacts.add_note(rep, contact, "Prefers reels to stories; answers in the evening.")
    db.session.commit()
    return contact


def test_older_pages_back_in_place(page, live_server, sign_in, rep, db):
    contact = busy_contact(db, rep)
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts/{contact.id}")
    timeline = page.locator("#timeline ol.timeline")
    timeline.scroll_into_view_if_needed()          # its first page is read when it shows
    expect(timeline.locator("li.tl-entry")).to_have_count(15)
    expect(timeline.locator("li.tl-load")).to_have_count(0)
    wait_for_htmx(page, "#timeline .tl-more a")
    page.locator("#timeline").get_by_role("link", name="Older").click()
    expect(timeline.locator("li.tl-entry")).to_have_count(24)
    expect(timeline).to_contain_text("Message number 00")
    expect(page.locator("#timeline").get_by_role("link", name="Older")).to_have_count(0)
    assert page.url == f"{live_server}/contacts/{contact.id}"
    texts = timeline.locator("li.tl-entry .tl-text").all_inner_texts()
    assert len(texts) == len(set(texts)) == 24                 # nothing twice


def test_a_note_added_shows_at_the_top(page, live_server, sign_in, rep, db):
    contact = busy_contact(db, rep)
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts/{contact.id}")
    wait_for_htmx(page, "#notes")
    page.get_by_label("New note").fill("Call her agent first")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#timeline li.tl-entry").first).to_contain_text("Call her agent first")
    expect(page.get_by_label("New note")).to_have_value("")


def test_the_timeline_at_desktop_and_phone_width(browser, live_server, sign_in, rep, db):
    contact = busy_contact(db, rep)
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      bypass_csp=True)
        page = context.new_page()
        sign_in(page, rep)
        page.goto(f"{live_server}/contacts/{contact.id}")
        section = page.locator("#timeline")
        section.scroll_into_view_if_needed()
        expect(section.locator("li.tl-entry")).to_have_count(15)
        section.screenshot(path=str(SCREENSHOTS / f"timeline-{width}.png"))
        page.screenshot(path=str(SCREENSHOTS / f"contact-page-{width}.png"), full_page=True)
        assert _axe(page) == []
        assert _wider_than_screen(page) == []
        context.close()
