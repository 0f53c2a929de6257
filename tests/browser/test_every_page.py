"""Every main page, in light and dark: no critical or serious axe-core violation, and nothing
wider than a 390 px phone screen (tables scroll inside their own box).

axe-core is vendored in tests/browser/vendor (pinned version, MPL-2.0, its licences beside it).
Set SHOTS_DIR to keep a screenshot of every page at 1366 and 390 px in both schemes.
"""
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests import factories

AXE = Path(__file__).parent / "vendor" / "axe-core-4.14.1.min.js"
SHOTS = os.environ.get("SHOTS_DIR")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
SCHEMES = ("light", "dark")


@pytest.fixture
def workspace(app, db):
    """The demo workspace (a few dozen contacts with DMs, deals, tasks, campaigns), as a new
    team would try it, and its manager and admin."""
    from crm.accounts.models import User
    from crm.contacts.models import Contact
    from crm.pipeline.models import Deal
    result = app.test_cli_runner().invoke(args=["demo", "load", "--contacts", "40"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    admin = db.session.query(User).filter_by(role="admin").first()
    from crm.conversations.models import Conversation
    busiest = (db.session.query(Conversation.contact_id)
               .order_by(Conversation.message_count.desc(), Conversation.id).first())
    contact = db.session.get(Contact, busiest[0])
    deal = db.session.query(Deal).order_by(Deal.id).first()
    return {"admin": admin, "contact": contact, "deal": deal}


def main_pages(w) -> list[tuple[str, str]]:
    from crm.campaigns.models import Campaign
    from crm.extensions import db
    campaign = db.session.query(Campaign).order_by(Campaign.id).first()
    return [("home", "/"), ("today", "/today"), ("contacts", "/contacts"),
            ("contact", f"/contacts/{w['contact'].id}"), ("new-contact", "/contacts/new"),
            ("inbox", "/inbox"), ("board", "/board"), ("deal", f"/deals/{w['deal'].id}"),
            ("campaigns", "/campaigns"), ("campaign", f"/campaigns/{campaign.id}"),
            ("templates", "/templates"), ("imports", "/imports"), ("dashboard", "/dashboard"),
            ("search", "/search?q=an"), ("views", "/views"), ("admin-users", "/admin/users"),
            ("admin-settings", "/admin/settings"), ("admin-audit", "/admin/audit"),
            ("admin-webhooks", "/admin/webhooks"),
            ("admin-privacy", "/admin/privacy")]


def _sign_in(page, base, user):
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(_password())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")


def _password():
    from crm.demo.data import DEMO_PASSWORD
    return DEMO_PASSWORD


def _axe(page) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'critical' || v.impact === 'serious')
          .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' +
               v.nodes.slice(0, 4).map(n => n.target.join(' ') +
               (n.any[0] && n.any[0].message ? ' [' + n.any[0].message + ']' : '')).join(' | '));
    }""")
    return found


def _wider_than_screen(page) -> list[str]:
    """Empty when the page fits; else its width and the elements that stick out furthest."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const total = document.documentElement.scrollWidth;
        if (total <= width) return [];
        // Inside a box that scrolls or clips sideways, an element makes no page wider.
        const clipped = el => {
          for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== 'visible') return true;
          }
          return false;
        };
        const out = [];
        for (const el of document.querySelectorAll('body *')) {
          const box = el.getBoundingClientRect();
          if (box.right > width + 1 && box.width > 0 && !clipped(el)) {
            const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
              (typeof el.className === 'string' && el.className.trim()
               ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
            out.push([Math.round(box.right), name]);
          }
        }
        out.sort((a, b) => b[0] - a[0]);
        return [total + ' px wide on a ' + width + ' px screen']
          .concat(out.slice(0, 6).map(([right, name]) => name + ' right=' + right));
    }""")


def _shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def _check_every_page(context, base, workspace, check, label) -> dict:
    """{path: problems} of `check(page)` on every main page, signed in as the admin, then on
    the sign-in page signed out; a screenshot of each when SHOTS_DIR is set."""
    page = context.new_page()
    _sign_in(page, base, workspace["admin"])
    problems = {}
    for name, path in main_pages(workspace) + [("login", "/login")]:
        if path == "/login":
            context.clear_cookies()
        page.goto(f"{base}{path}")
        expect(page.locator("main h1").first).to_be_visible()
        if found := check(page):
            problems[path] = found
        _shot(page, f"{name}-{label}")
    return problems


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_main_page_has_no_serious_accessibility_violation(browser, live_server, workspace,
                                                                scheme):
    # The app's Content-Security-Policy allows no injected script: axe is let in by the
    # browser, for this context only.
    context = browser.new_context(viewport=DESKTOP, color_scheme=scheme, bypass_csp=True)
    try:
        problems = _check_every_page(context, live_server, workspace, _axe, f"1366-{scheme}")
    finally:
        context.close()
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in problems.items())


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_main_page_fits_a_phone_screen(browser, live_server, workspace, scheme):
    context = browser.new_context(viewport=PHONE, color_scheme=scheme, is_mobile=True,
                                  has_touch=True, device_scale_factor=1)
    try:
        problems = _check_every_page(context, live_server, workspace, _wider_than_screen,
                                     f"390-{scheme}")
    finally:
        context.close()
    assert not problems, "\n".join(f"{p}: " + "; ".join(w) for p, w in problems.items())


def test_the_phone_menu_opens_by_touch_and_by_keyboard(browser, live_server, workspace):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        _sign_in(page, live_server, workspace["admin"])
        nav = page.get_by_role("navigation", name="Main")
        expect(nav).to_be_hidden()
        button = page.locator(".nav-toggle-label").bounding_box()
        assert button["width"] >= 44 and button["height"] >= 44
        page.locator(".nav-toggle-label").tap()
        expect(nav).to_be_visible()
        link = nav.get_by_role("link", name="Contacts").bounding_box()
        assert link["height"] >= 44
        nav.get_by_role("link", name="Contacts").tap()
        expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
        expect(nav).to_be_hidden()          # a new page comes with the menu folded
        page.keyboard.press("Tab")          # skip link, then the brand, then the menu
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(page.get_by_role("checkbox", name="Menu")).to_be_focused()
        page.keyboard.press("Space")
        expect(nav).to_be_visible()
    finally:
        context.close()
