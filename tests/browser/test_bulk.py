"""Bulk actions in Chromium: tick rows, act on them, read the summary, undo; the inbox too.
Screenshots of the selection bar and the summary at 1366 and 390 px wide, and axe on both."""
import csv
import io
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.core.timeutil import utcnow
from crm.pipeline.defaults import ensure_default_pipelines
from tests import factories
from tests.browser.conftest import SCREENSHOTS, wait_for_htmx
from tests.browser.test_every_page import DESKTOP, PHONE, _axe, _wider_than_screen


@pytest.fixture(autouse=True)
def pipelines(db):
    """The ready-made pipelines, as migration 0025 seeds them (campaign deals and the board)."""
    ensure_default_pipelines()
    db.session.commit()


def _people(owner, *names):
    return [factories.ContactFactory(name=n, owner_id=owner.id) for n in names]


def _shot(page, name):
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def test_tick_reassign_read_the_summary_and_undo(page, live_server, sign_in, manager, rep,
                                                 other_rep, db):
    ann, bob, _ = _people(rep, "Ann Bulk", "Bob Bulk", "Cy Bulk")
    sign_in(page, manager)
    page.goto(f"{live_server}/contacts")
    wait_for_htmx(page, "#bulk-contacts")
    bar = page.locator("#bulk-contacts")
    expect(bar.get_by_text("the contacts ticked below (none yet)")).to_be_visible()
    # Only the chosen action's field shows.
    expect(bar.get_by_label("Tag")).to_be_hidden()
    page.get_by_label("Tick Ann Bulk").check()
    page.get_by_label("Tick Bob Bulk").check()
    expect(bar.get_by_text("2 ticked contacts")).to_be_visible()
    bar.get_by_label("New owner").select_option(label="Otto Other")
    _shot(page, "bulk-bar-1366")
    bar.get_by_role("button", name="Apply").click()
    summary = page.locator(".bulk-summary")
    expect(summary).to_contain_text("2 contacts reassigned to Otto Other.")
    expect(page.locator("#contact-results")).to_contain_text("Otto Other")
    db.session.expire_all()
    assert {db.session.get(type(ann), c.id).owner_id for c in (ann, bob)} == {other_rep.id}
    _shot(page, "bulk-summary-1366")
    summary.get_by_role("button", name="Undo").click()
    expect(page.locator(".flash-success")).to_contain_text("Undone: 2 contacts put back")
    db.session.expire_all()
    assert {db.session.get(type(ann), c.id).owner_id for c in (ann, bob)} == {rep.id}


def test_tick_the_whole_page_and_tag_with_refusals_named(page, live_server, sign_in, rep, db):
    campaign = factories.CampaignFactory(name="Spring Glow")
    _people(rep, "Ann Bulk", "Bob Bulk")
    factories.ContactFactory(name="Olly Out", owner_id=rep.id, consent_status="opted_out")
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts")
    wait_for_htmx(page, "#bulk-contacts")
    page.get_by_label("Tick every contact on this page").check()
    bar = page.locator("#bulk-contacts")
    expect(bar.get_by_text("3 ticked contacts")).to_be_visible()
    bar.get_by_label("Action").select_option("campaign")
    bar.get_by_label("Campaign").select_option(str(campaign.id))
    bar.get_by_role("button", name="Apply").click()
    summary = page.locator(".bulk-summary")
    expect(summary).to_contain_text("2 contacts added to “Spring Glow”; 1 refused: Olly Out (opted out")
    summary.get_by_text("who and why").click()
    expect(summary.get_by_text("refused, opted out")).to_be_visible()


def test_export_the_ticked_rows(page, live_server, sign_in, rep):
    _people(rep, "Ann Bulk", "Bob Bulk", "Cy Bulk")
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts")
    wait_for_htmx(page, "#bulk-contacts")
    page.get_by_label("Tick Ann Bulk").check()
    page.get_by_label("Tick Cy Bulk").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export selection").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()
    assert [r[0] for r in csv.reader(io.StringIO(text))][1:] == ["Ann Bulk", "Cy Bulk"]
    # The page stayed as it was.
    expect(page.get_by_label("Tick Ann Bulk")).to_be_checked()


def test_inbox_mark_done_then_undo(page, live_server, sign_in, rep, db):
    from crm.conversations import services

    for name in ("Ann Waits", "Bob Waits"):
        contact = factories.ContactFactory(name=name, owner_id=rep.id)
        services.log_message(rep, contact, platform="instagram", direction="in", body="hi?",
                             sent_at=utcnow() - timedelta(hours=3))
    sign_in(page, rep)
    page.goto(f"{live_server}/inbox")
    wait_for_htmx(page, "#bulk-inbox")
    page.get_by_label("Tick the conversation with Ann Waits").check()
    page.locator("#bulk-inbox").get_by_role("button", name="Apply").click()
    expect(page.locator(".bulk-summary")).to_contain_text("1 conversation marked no reply needed.")
    expect(page.locator("#inbox-results")).not_to_contain_text("Ann Waits")
    page.locator(".bulk-summary").get_by_role("button", name="Undo").click()
    expect(page.locator("#inbox-results")).to_contain_text("Ann Waits")


def test_bar_and_summary_at_desktop_and_phone_width_pass_axe(browser, live_server, manager, rep,
                                                              db):
    from crm.conversations import services

    _people(rep, *[f"Person {i:02d}" for i in range(8)])
    factories.ContactFactory(name="Olly Out", owner_id=rep.id, consent_status="opted_out")
    for i in range(3):
        contact = factories.ContactFactory(name=f"Waiting {i}", owner_id=rep.id)
        services.log_message(rep, contact, platform="instagram", direction="in", body="hi?",
                             sent_at=utcnow() - timedelta(hours=3 + i))
    factories.CampaignFactory(name="Spring Glow")
    db.session.commit()
    for scheme in ("light", "dark"):
        for label, size in (("1366", DESKTOP), ("390", PHONE)):
            context = browser.new_context(viewport=size, color_scheme=scheme, bypass_csp=True,
                                          is_mobile=size is PHONE, has_touch=size is PHONE)
            page = context.new_page()
            page.goto(f"{live_server}/login")
            page.get_by_label("Email").fill(manager.email)
            page.get_by_label("Password").fill(factories.PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(f"{live_server}/")
            page.goto(f"{live_server}/contacts")
            wait_for_htmx(page, "#bulk-contacts")
            page.get_by_label("Tick Olly Out").check()
            page.get_by_label("Tick Person 01").check()
            bar = page.locator("#bulk-contacts")
            bar.get_by_label("Action").select_option("campaign")
            _shot(page, f"bulk-bar-{label}-{scheme}")
            assert _axe(page) == [] and _wider_than_screen(page) == []
            bar.get_by_label("Campaign").select_option(label="Spring Glow")
            bar.get_by_role("button", name="Apply").click()
            expect(page.locator(".bulk-summary")).to_contain_text("1 refused")
            page.locator(".bulk-summary").get_by_text("who and why").click()
            _shot(page, f"bulk-summary-{label}-{scheme}")
            assert _axe(page) == [] and _wider_than_screen(page) == []
            page.locator(".bulk-summary").get_by_role("button", name="Undo").click()
            expect(page.locator(".flash-success")).to_contain_text("Undone")
            page.goto(f"{live_server}/inbox")
            wait_for_htmx(page, "#bulk-inbox")
            page.get_by_label("Tick the conversation with Waiting 1").check()
            page.locator("#bulk-inbox").get_by_label("Action").select_option("snooze")
            _shot(page, f"bulk-inbox-{label}-{scheme}")
            assert _axe(page) == [] and _wider_than_screen(page) == []
            context.close()
