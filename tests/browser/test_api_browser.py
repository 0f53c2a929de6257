"""A person makes an API token on their account page and reads the API's reference; both
pages work under the Content-Security-Policy, at desktop and phone widths."""
import re

from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS, csp_violations
from tests.browser.test_every_page import _wider_than_screen

PHONE = {"width": 390, "height": 844}


def test_make_a_token_then_read_the_reference(browser, page, live_server, sign_in, rep):
    sign_in(page, rep)
    page.goto(f"{live_server}/account")
    tokens = page.locator("#api-tokens")
    tokens.get_by_label("Name").fill("LinkedIn bridge")
    tokens.get_by_label("Expires").select_option("30")
    tokens.get_by_role("button", name="Make a token").click()
    expect(page.locator("#new-token")).to_have_text(re.compile(r"^rpt_[\w-]{40,}$"))
    expect(tokens.get_by_role("button", name="Copy token")).to_be_visible()
    expect(tokens.locator("tbody tr")).to_have_count(1)
    expect(tokens.locator("tbody tr")).to_contain_text("Not yet")
    page.locator("#api-tokens").scroll_into_view_if_needed()
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("#api-tokens").screenshot(path=str(SCREENSHOTS / "api-tokens-1280.png"))

    page.goto(f"{live_server}/api/docs")
    expect(page.get_by_role("heading", name="API reference")).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/api/v1/contacts").first) \
        .to_be_visible()
    expect(page.get_by_text("Rapport API").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "api-docs-1280.png"), full_page=False)

    # On a phone: the token section and the reference fit the screen.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  storage_state=page.context.storage_state())
    phone = context.new_page()
    refused = csp_violations(phone)
    try:
        phone.goto(f"{live_server}/account#api-tokens")
        expect(phone.locator("#api-tokens")).to_contain_text("LinkedIn bridge")
        assert _wider_than_screen(phone) == []
        phone.locator("#api-tokens").screenshot(path=str(SCREENSHOTS / "api-tokens-390.png"))
        phone.goto(f"{live_server}/api/docs")
        expect(phone.locator(".opblock-summary-path", has_text="/api/v1/contacts").first) \
            .to_be_visible()
        phone.screenshot(path=str(SCREENSHOTS / "api-docs-390.png"), full_page=False)
        assert _wider_than_screen(phone) == []
    finally:
        context.close()
    assert refused == []


# Swagger UI puts the copy and lock buttons inside each operation's summary button: its own
# markup, which no stylesheet changes. Everything else is held to the app's standard.
SWAGGER_UI_MARKUP = ("nested-interactive",)


def test_the_token_section_and_the_reference_pass_axe(browser, live_server, sign_in, rep):
    from tests.browser.test_every_page import DESKTOP, _axe

    # axe is injected, which the Content-Security-Policy refuses: let it in, here only.
    context = browser.new_context(viewport=DESKTOP, bypass_csp=True)
    try:
        page = sign_in(context.new_page(), rep)
        page.goto(f"{live_server}/account")
        assert _axe(page) == []
        page.goto(f"{live_server}/api/docs")
        page.wait_for_selector(".opblock")
        found = [v for v in _axe(page) if not v.startswith(SWAGGER_UI_MARKUP)]
        assert found == []
    finally:
        context.close()
