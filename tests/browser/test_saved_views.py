"""Saved views in Chromium: filter the list in place, save the filters under a name, share
them, and another user finds the quick link. Screenshots at 1366 and 390 px, axe clean."""
import pytest
from playwright.sync_api import expect

from crm.pipeline.defaults import ensure_default_pipelines
from tests import factories
from tests.browser.conftest import SCREENSHOTS, wait_for_htmx
from tests.browser.test_every_page import DESKTOP, PHONE, _axe, _wider_than_screen


@pytest.fixture(autouse=True)
def pipelines(db):
    """The ready-made pipelines, as migration 0025 seeds them (campaign deals and the board)."""
    ensure_default_pipelines()
    db.session.commit()


def _shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign_in(page, live_server, user):
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")


def test_save_a_view_share_it_and_a_teammate_sees_it(browser, live_server, rep, other_rep, db):
    for name in ("Lena Lead", "Leo Lead"):
        factories.ContactFactory(name=name, kind="lead")
    factories.ContactFactory(name="Ivy Influencer", kind="influencer")
    db.session.commit()
    for scheme in ("light", "dark"):
        for label, size in (("1366", DESKTOP), ("390", PHONE)):
            context = browser.new_context(viewport=size, color_scheme=scheme, bypass_csp=True,
                                          is_mobile=size is PHONE, has_touch=size is PHONE)
            page = context.new_page()
            _sign_in(page, live_server, rep)
            page.goto(f"{live_server}/contacts")
            wait_for_htmx(page, "form[role=search]")
            # The filters change in place; the strip follows them.
            page.get_by_label("Kind").select_option("lead")
            expect(page.locator("#contact-results")).not_to_contain_text("Ivy Influencer")
            strip = page.locator("#saved-views")
            expect(strip.locator("input[name=query]")).to_have_value("kind=lead")
            strip.get_by_text("Save these filters").click()
            name = f"Leads {label} {scheme}"
            strip.get_by_label("Name").fill(name)
            strip.get_by_label("Share with the team").check()
            _shot(page, f"saved-views-form-{label}-{scheme}")
            assert _axe(page) == [] and _wider_than_screen(page) == []
            strip.get_by_role("button", name="Save view").click()
            expect(page.locator(".flash-success")).to_contain_text(
                f"View “{name}” saved and shared with the team.")
            link = page.locator("#saved-views").get_by_role("link", name=name)
            expect(link).to_have_attribute("aria-current", "true")
            _shot(page, f"saved-views-strip-{label}-{scheme}")
            assert _axe(page) == [] and _wider_than_screen(page) == []
            context.close()

            # A teammate finds it on the same page, and it opens the same filters.
            context = browser.new_context(viewport=size, color_scheme=scheme, bypass_csp=True)
            page = context.new_page()
            _sign_in(page, live_server, other_rep)
            page.goto(f"{live_server}/contacts")
            page.locator("#saved-views").get_by_role("link", name=name).click()
            expect(page).to_have_url(f"{live_server}/contacts?kind=lead")
            expect(page.locator("#contact-results")).to_contain_text("Lena Lead")
            expect(page.locator("#contact-results")).not_to_contain_text("Ivy Influencer")
            # Theirs to use, not to edit.
            page.goto(f"{live_server}/views")
            expect(page.get_by_text("Shared by Rae Rep").first).to_be_visible()
            expect(page.get_by_role("button", name="Rename")).to_have_count(0)
            _shot(page, f"saved-views-manage-{label}-{scheme}")
            assert _axe(page) == [] and _wider_than_screen(page) == []
            context.close()


def test_rename_and_delete_from_the_manage_page(page, live_server, sign_in, rep):
    sign_in(page, rep)
    page.goto(f"{live_server}/board?owner=me")
    strip = page.locator("#saved-views")
    strip.get_by_text("Save these filters").click()
    strip.get_by_label("Name").fill("My deals")
    strip.get_by_role("button", name="Save view").click()
    expect(page.locator("#saved-views").get_by_role("link", name="My deals")).to_be_visible()
    page.locator("#saved-views").get_by_role("link", name="Manage views").click()
    page.get_by_label("New name for My deals").fill("Mine only")
    page.get_by_role("button", name="Rename").click()
    expect(page.locator(".flash-success")).to_contain_text("Renamed “Mine only”.")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".flash-success")).to_contain_text("View “Mine only” deleted.")
    expect(page.get_by_text("No saved views of the board yet.")).to_be_visible()
