"""A rep logs DMs on a contact and uses a template; the inbox badge follows without a reload."""
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import wait_for_htmx


def test_log_dms_and_use_a_template(page, live_server, sign_in, db):
    rep = factories.UserFactory(role="rep", name="Rae Rep", email="rae@example.com")
    contact = factories.ContactFactory(name="Maya Chen", first_name="Maya", owner_id=rep.id)
    factories.HandleFactory(contact=contact, platform="instagram", handle="maya.makes")
    factories.DMTemplateFactory(name="Intro", body="Hi {first_name}, it's {my_name}!")
    sign_in(page, rep)

    page.goto(f"{live_server}/contacts/{contact.id}")
    badge = page.locator("#nav-needs-reply")
    expect(badge).to_have_text("0")
    page.evaluate("window.__sameDocument = true")

    # An inbound DM: the conversation appears and the badge counts it.
    page.locator("label[for=log-dir-in]").click()
    page.get_by_label("Message", exact=True).fill("Hey! Loved the package 😍\nWhat's next?")
    page.get_by_role("button", name="Log message").click()
    thread = page.locator(".thread")
    expect(thread).to_contain_text("Loved the package")
    expect(page.locator(".conv-status")).to_contain_text("Needs reply")
    expect(badge).to_have_text("1")

    # Our answer, logged from the keyboard: the badge goes back to zero.
    page.evaluate("document.querySelector('.thread-inner').dataset.kept = 'yes'")
    page.locator("label[for=log-dir-out]").click()
    body = page.get_by_label("Message", exact=True)
    body.fill("So glad! Sending the brief today.")
    body.press("Control+Enter")
    expect(thread).to_contain_text("Sending the brief today")
    expect(page.locator(".conv-status")).to_contain_text("Awaiting reply")
    expect(badge).to_have_text("0")
    # It was appended to the thread on screen (the thread itself stayed), under the same
    # day, with a fresh form ready for their answer and the tab counting both.
    expect(page.locator(".thread-inner[data-kept=yes]")).to_have_count(1)
    expect(page.locator(".thread-inner > article.msg")).to_have_count(2)
    expect(page.locator(".thread-inner > .day-sep")).to_have_count(1)
    expect(page.locator(".conv-tab-count")).to_have_text("2")
    expect(body).to_be_focused()
    expect(body).to_have_value("")
    expect(page.locator("#log-dir-in")).to_be_checked()

    # A template, filled in for Maya, copied and logged as sent.
    page.get_by_text("Use a template").click()
    wait_for_htmx(page, "form.tpl-pick")      # the picker is fetched when the tool opens
    page.get_by_label("Template").select_option(label="Intro")
    text = page.locator("#tpl-text")
    expect(text).to_have_value("Hi Maya, it's Rae Rep!")
    page.get_by_role("button", name="Log as sent").click()
    expect(thread).to_contain_text("Hi Maya, it's Rae Rep!")
    expect(thread.locator(".badge-tpl")).to_have_text("Intro")

    assert page.evaluate("window.__sameDocument") is True   # no reload happened
