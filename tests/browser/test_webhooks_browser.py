"""An admin registers a webhook receiver, copies its secret, watches a delivery fail and
succeed, sends one again; the pages fit a phone and pass axe. Screenshots at 1280 and 390 px
go to tests/browser/screenshots/webhooks-*.png."""
from playwright.sync_api import expect

from crm.contacts import services as contacts
from crm.extensions import db
from crm.webhooks import delivery as deliveries
from tests.browser.conftest import SCREENSHOTS
from tests.browser.test_every_page import PHONE, _axe, _wider_than_screen
from tests.test_webhooks import Receiver


def _shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"webhooks-{name}.png"), full_page=True)


def test_an_admin_registers_a_receiver_and_reads_its_log(browser, page, live_server, sign_in,
                                                         admin, rep):
    receiver = Receiver()
    try:
        sign_in(page, admin)
        page.goto(f"{live_server}/admin/webhooks")
        expect(page.get_by_role("heading", name="Webhook endpoints")).to_be_visible()
        # The receiver is on this machine: a private address, refused until allowed.
        page.get_by_label("Receiver URL").fill(receiver.url)
        page.get_by_label("contact.created").check()
        page.get_by_role("button", name="Register").click()
        expect(page.locator(".error").first).to_contain_text("private address (127.0.0.1)")
        page.get_by_label("Allow receivers at private addresses", exact=False).check()
        page.get_by_role("button", name="Save").click()
        expect(page.locator(".flash-success")).to_contain_text("Private receivers are allowed.")
        page.get_by_label("Receiver URL").fill(receiver.url)
        page.get_by_label("Description").fill("Zapier: new contacts to the sheet")
        page.get_by_label("contact.created").check()
        page.get_by_label("deal.won").check()
        page.get_by_role("button", name="Register").click()
        secret = page.locator("#webhook-secret")
        expect(secret).to_be_visible()
        assert secret.input_value().startswith("whsec_")
        _shot(page, "created-1280")
        page.get_by_role("link", name="Done").click()

        receiver.script = [500]
        contacts.create_contact(rep, {"name": "Maya Chen"})
        contacts.create_contact(rep, {"name": "Otto Berg"})
        db.session.commit()
        page.reload()
        expect(page.locator(".webhook-log tbody tr")).to_have_count(2)
        expect(page.locator(".webhook-log")).to_contain_text("Retrying")
        expect(page.locator(".webhook-log")).to_contain_text("Delivered")
        page.locator(".webhook-log details summary").first.click()
        _shot(page, "endpoint-1280")
        page.get_by_role("button", name="Send again").first.click()
        expect(page.locator(".webhook-log tbody tr")).to_have_count(3)
        assert len(receiver.requests) == 3

        page.goto(f"{live_server}/admin/webhooks")
        expect(page.locator(".webhooks-table")).to_contain_text("Zapier: new contacts")
        _shot(page, "index-1280")
        # Rapport turns a failing endpoint off: the admins read why, at the top of the page.
        endpoint_id = int(page.locator(".webhooks-table tbody tr").first
                          .get_attribute("id").split("-")[1])
        assert deliveries.turn_off(endpoint_id, 50, "HTTP 503")
        db.session.commit()
        page.reload()
        expect(page.locator(".banner-danger")).to_contain_text(
            "Turned off after 50 failed attempts in a row; the last: HTTP 503")
        _shot(page, "turned-off-1280")
        page.get_by_role("link", name="see its log and turn it on again").click()
        page.get_by_role("button", name="Turn on").click()
        expect(page.locator(".flash-success")).to_contain_text("waiting deliveries go out again")
        page.goto(f"{live_server}/admin/webhooks")
        endpoint = page.locator(".webhooks-table a").first.get_attribute("href")
        page.set_viewport_size(PHONE)
        for name, path in (("index", "/admin/webhooks"), ("endpoint", endpoint)):
            page.goto(f"{live_server}{path}")
            assert _wider_than_screen(page) == [], name
            _shot(page, f"{name}-390")
        # axe-core is let in past the policy in a context of its own (as test_every_page does).
        context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 900})
        try:
            checked = sign_in(context.new_page(), admin)
            for path in ("/admin/webhooks", endpoint):
                checked.goto(f"{live_server}{path}")
                assert _axe(checked) == [], path
        finally:
            context.close()
    finally:
        receiver.close()
