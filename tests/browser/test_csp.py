"""The main pages run under the strict Content-Security-Policy: Chromium refuses nothing on
them, and the behaviour moved out of inline attributes still works."""
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import csp_violations


def _workspace(db, admin):
    contact = factories.ContactFactory(name="Maya Chen", owner_id=admin.id)
    factories.HandleFactory(contact=contact, platform="instagram", handle="maya.makes")
    campaign = factories.CampaignFactory(name="Spring glow")
    factories.DealFactory(contact=contact, title="Spring collab", campaign_id=campaign.id)
    factories.TaskFactory(title="Send the brief", contact_id=contact.id, assignee_id=admin.id)
    template = factories.DMTemplateFactory(name="Intro", body="Hi {first_name}!")
    factories.ConversationFactory(contact=contact)
    db.session.commit()
    return contact, campaign, template


def test_main_pages_break_no_rule_of_the_policy(browser, live_server, sign_in, admin, db):
    contact, campaign, template = _workspace(db, admin)
    for width in (1366, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        refused = csp_violations(page)
        sign_in(page, admin)
        for path in ["/", "/contacts", f"/contacts/{contact.id}", "/contacts/new",
                     f"/contacts/{contact.id}/edit", "/inbox", "/board", "/today",
                     "/campaigns", f"/campaigns/{campaign.id}", "/templates",
                     f"/templates/{template.id}/edit", "/imports", "/dashboard",
                     "/admin/users", "/admin/pipelines", "/admin/audit", "/admin/settings",
                     "/admin/jobs", "/admin/channels", "/account"]:
            response = page.goto(f"{live_server}{path}")
            assert "script-src 'self';" in response.headers["content-security-policy"], path
            page.wait_for_load_state("networkidle")
            assert page.locator("main").count() == 1, path
        # Boosted navigation swaps pages in place: the policy holds there too.
        if width < 640:
            page.locator("label.nav-toggle-label").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Board", exact=True).click()
        expect(page.locator(".board-cards").first).to_be_visible()
        context.close()
        assert refused == [], f"{width}px: " + "\n".join(refused)


def test_the_check_sees_a_refused_script(browser, live_server, sign_in, admin):
    """The console check can fail: an inline script added to a page is refused and reported."""
    context = browser.new_context()
    page = context.new_page()
    refused = csp_violations(page)
    sign_in(page, admin)
    page.evaluate("() => { const s = document.createElement('script');"
                  " s.textContent = 'window.ran = true'; document.body.appendChild(s); }")
    page.wait_for_timeout(200)
    ran = page.evaluate("window.ran === true")
    context.close()
    assert not ran
    assert any("inline script" in text for text in refused)


def test_a_confirmation_asks_before_archiving(page, live_server, sign_in, admin, db):
    contact = factories.ContactFactory(name="Maya Chen", owner_id=admin.id)
    db.session.commit()
    sign_in(page, admin)
    page.goto(f"{live_server}/contacts/{contact.id}")
    asked = []
    page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_role("heading", name="Maya Chen")).to_be_visible()
    assert asked == ["Archive this contact? It can be restored later."]
    db.session.refresh(contact)
    assert contact.archived_at is None
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Archive").click()
    expect(page.get_by_text("archived", exact=False).first).to_be_visible()
    db.session.expire_all()
    assert db.session.get(type(contact), contact.id).archived_at is not None
