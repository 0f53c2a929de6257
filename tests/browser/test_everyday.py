"""What a new user trips over in everyday use, clicked through in Chromium."""
import csv
import io
import re

from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import wait_for_htmx


def _csv_names(download) -> list[str]:
    text = open(download.path(), encoding="utf-8-sig").read()
    return [row[0] for row in csv.reader(io.StringIO(text))][1:]


def test_export_follows_the_search_and_home_still_opens(page, live_server, sign_in, rep):
    for name in ("Ana Export", "Bruno Export", "Carla Other"):
        factories.ContactFactory(name=name, owner_id=rep.id)
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts")
    wait_for_htmx(page, "form[role=search]")
    page.get_by_label("Search").fill("export")
    expect(page).to_have_url(re.compile(r"q=export"))
    expect(page.locator("#contact-results")).not_to_contain_text("Carla Other")
    with page.expect_download() as download:
        page.get_by_role("link", name="Export CSV").click()
    assert _csv_names(download.value) == ["Ana Export", "Bruno Export"]
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Good to see you")


def test_archived_box_and_dashboard_export_follow_changes_in_place(page, live_server, sign_in,
                                                                   rep):
    factories.ContactFactory(name="Live One", owner_id=rep.id)
    gone = factories.ContactFactory(name="Gone One", owner_id=rep.id)
    gone.archived_at = gone.created_at
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts")
    wait_for_htmx(page, "form[role=search]")
    page.get_by_label("Archived").check()
    expect(page).to_have_url(re.compile(r"archived=1"))
    expect(page.locator("#contact-results")).to_contain_text("Gone One")
    expect(page.locator("#contact-results")).not_to_contain_text("Live One")
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute(
        "href", re.compile(r"archived=1"))

    page.goto(f"{live_server}/dashboard")
    wait_for_htmx(page, "form.dash-filters")
    page.get_by_label("Platform", exact=True).select_option("instagram")
    expect(page).to_have_url(re.compile(r"platform=instagram"))
    expect(page.get_by_role("link", name="Export summary CSV")).to_have_attribute(
        "href", re.compile(r"platform=instagram"))
