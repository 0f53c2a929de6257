"""A person's data in Chromium: an admin exports it and erases it from the contact page;
the pages fit a phone and have no serious accessibility violation. Screenshots at 1280 and
390 px."""
from datetime import timedelta

from playwright.sync_api import expect

from crm.conversations import services as conversations
from crm.core.timeutil import utcnow
from tests import factories
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_every_page import _axe, _wider_than_screen

WIDE, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


def _shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, user):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")


def test_admin_exports_then_erases_a_person(browser, live_server, admin, db, app, tmp_path,
                                             monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_EXPORT_DIR", str(tmp_path / "exports"))
    contact = factories.ContactFactory(name="Nora Quist", email="nora@quist.test")
    factories.HandleFactory(contact=contact, platform="instagram", handle="nora.quist")
    conversations.log_message(admin, contact, platform="instagram", direction="in",
                              body="Hello, it's Nora", sent_at=utcnow() - timedelta(hours=2))
    db.session.commit()
    cid = contact.id
    for label, size in (("1280", WIDE), ("390", PHONE)):
        context = browser.new_context(viewport=size, bypass_csp=True, is_mobile=size is PHONE,
                                      has_touch=size is PHONE)
        page = context.new_page()
        try:
            _sign_in(page, live_server, admin)
            page.goto(f"{live_server}/contacts/{cid}")
            page.get_by_text("Privacy", exact=True).click()
            _shot(page, f"privacy-menu-{label}")
            if label == "1280":
                page.get_by_role("button", name="Export this person's data").click()
                expect(page.get_by_role("link", name="Download the zip")).to_be_visible()
            else:
                page.goto(f"{live_server}/contacts/{cid}/data-export")
            assert _wider_than_screen(page) == []
            assert label == "390" or _axe(page) == []
            _shot(page, f"privacy-export-{label}")
            page.goto(f"{live_server}/contacts/{cid}/erase")
            expect(page.get_by_role("heading", name="Erase Nora Quist")).to_be_visible()
            assert _wider_than_screen(page) == []
            assert label == "390" or _axe(page) == []
            _shot(page, f"privacy-erase-{label}")
            page.goto(f"{live_server}/admin/privacy")
            assert _wider_than_screen(page) == []
            assert label == "390" or _axe(page) == []
            _shot(page, f"privacy-admin-{label}")
        finally:
            context.close()

    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    try:
        _sign_in(page, live_server, admin)
        page.goto(f"{live_server}/contacts/{cid}")
        page.get_by_text("Privacy", exact=True).click()
        page.get_by_role("link", name="Erase this person…").click()
        page.get_by_label("Type the person's name to confirm").fill("Nora")
        page.get_by_label("Why").fill("Asked by email on 3 March")
        page.get_by_role("button", name="Erase everything about this person").click()
        expect(page.get_by_text("Type the contact's name exactly")).to_be_visible()
        page.get_by_label("Type the person's name to confirm").fill("Nora Quist")
        page.get_by_role("button", name="Erase everything about this person").click()
        expect(page.get_by_role("heading", name="Erased person", level=1)).to_be_visible()
        expect(page.get_by_text("Asked by email on 3 March")).to_be_visible()
        _shot(page, "privacy-erased-1280")
        page.goto(f"{live_server}/admin/privacy")
        expect(page.get_by_text("Kept out")).to_be_visible()
        _shot(page, "privacy-admin-after-1280")
    finally:
        context.close()
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _sign_in(page, live_server, admin)
        page.goto(f"{live_server}/contacts/{cid}")
        expect(page.get_by_role("heading", name="Erased person", level=1)).to_be_visible()
        assert _wider_than_screen(page) == []
        _shot(page, "privacy-erased-390")
    finally:
        context.close()
