"""Browser tests: the app served on a free local port, driven by Debian's Chromium.

Without /usr/bin/chromium these tests are skipped with a hint — except in CI (CI=true),
where a missing browser fails the run.
"""
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories

# Pages answer in milliseconds; the margin is for a machine busy with other work.
expect.set_options(timeout=10_000)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path():
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        message = ("Chromium not found at /usr/bin/chromium: install it with "
                   "`sudo apt-get install chromium` (make test does this when run as root).")
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield browser
        browser.close()


def csp_violations(page) -> list[str]:
    """The Content-Security-Policy refusals Chromium reports on `page`'s console, as they
    come (the list fills while the test runs)."""
    refused = []
    def seen(message):
        if "Content Security Policy" in message.text:
            where = message.location
            refused.append(f"{where.get('url')}:{where.get('lineNumber')}: {message.text}")
    page.on("console", seen)
    return refused


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    refused = csp_violations(page)
    yield page
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    # Every browser test also proves its pages run under the policy (crm/headers.py).
    assert refused == [], "Content-Security-Policy violations:\n" + "\n".join(refused)


@pytest.fixture
def sign_in(db, live_server):
    """sign_in(page, user) goes through the real sign-in form."""
    def _sign_in(page, user):
        db.session.commit()
        page.goto(f"{live_server}/login")
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(factories.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server}/")
        return page
    return _sign_in


def wait_for_htmx(page, selector: str) -> None:
    """Wait until htmx has wired the element matching `selector` (swapped in by a boosted
    link or a fetched fragment): acting on it earlier, a change or a submit reaches nobody."""
    page.wait_for_function(
        "s => { const e = document.querySelector(s);"
        " return e && e['htmx-internal-data'] && e['htmx-internal-data'].initHash; }", arg=selector)
