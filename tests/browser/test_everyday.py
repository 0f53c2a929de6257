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


def test_answering_someone_who_wrote_logs_without_a_duplicate_warning(page, live_server,
                                                                       sign_in, rep, db):
    from datetime import timedelta

    from crm.conversations import services
    from crm.core.timeutil import utcnow
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    services.log_message(rep, contact, platform="instagram", direction="out", body="Hi Maya!",
                         sent_at=utcnow() - timedelta(days=2))
    services.log_message(rep, contact, platform="instagram", direction="in",
                         body="Hi! Tell me more", sent_at=utcnow() - timedelta(days=1))
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts/{contact.id}")
    page.locator("label[for=log-dir-out]").click()
    page.get_by_label("Message", exact=True).fill("Here is the brief.")
    page.get_by_role("button", name="Log message").click()
    expect(page.locator(".thread")).to_contain_text("Here is the brief.")
    expect(page.get_by_text("already messaged")).to_have_count(0)


def test_searching_an_at_handle_or_a_profile_url_finds_the_person(page, live_server, sign_in,
                                                                    rep, db):
    from crm.contacts.services import refresh_search_text
    ana = factories.ContactFactory(name="Ana Silva", owner_id=rep.id)
    factories.HandleFactory(contact=ana, platform="tiktok", handle="ana.makes")
    factories.ContactFactory(name="Bruno Costa", owner_id=rep.id)
    db.session.flush()
    refresh_search_text(ana)
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts")
    wait_for_htmx(page, "form[role=search]")
    results = page.locator("#contact-results")
    for q in ("@ana.makes", "https://www.tiktok.com/@Ana.Makes?lang=en"):
        page.get_by_label("Search").fill(q)
        expect(results).to_contain_text("Ana Silva")
        expect(results).not_to_contain_text("Bruno Costa")


def test_a_record_gone_out_of_scope_says_so(page, live_server, sign_in, rep, other_rep, db):
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts/{contact.id}")
    wait_for_htmx(page, "#conversations form")
    contact.owner_id = other_rep.id     # a manager hands the contact to someone else
    db.session.commit()
    page.get_by_label("Message", exact=True).fill("Hello?")
    page.get_by_role("button", name="Log message").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("no longer yours to see")
    alert.get_by_role("button", name="Dismiss").click()
    expect(page.get_by_role("alert")).to_have_count(0)


def test_a_refused_sign_in_says_why(page, browser, app, rep, db):
    """The sign-in limit's 429 is shown in place (the form is boosted)."""
    import threading

    from werkzeug.serving import make_server

    from config import TestConfig
    from crm import create_app

    class Limited(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        RATELIMIT_ENABLED = True
        LOGIN_RATE_LIMIT = "2 per hour"   # a slow run cannot outlive the window

    db.session.commit()
    server = make_server("127.0.0.1", 0, create_app(Limited), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/login")
        for attempt in range(3):
            page.get_by_label("Email").fill(rep.email)
            page.get_by_label("Password").fill("not the password")
            page.get_by_label("Password").evaluate("field => field.classList.add('answered')")
            with page.expect_response(lambda r: r.request.method == "POST") as answer:
                page.get_by_role("button", name="Sign in").click()
            assert answer.value.status == (200 if attempt < 2 else 429)
            if attempt < 2:   # the form comes back: the next attempt must type into the new one
                expect(page.locator("#password.answered")).to_have_count(0)
        expect(page.get_by_role("alert").filter(has_text="Too many")).to_be_visible()
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_opting_in_again_takes_their_word_and_the_whole_page_follows(page, live_server, sign_in,
                                                                     rep, db):
    contact = factories.ContactFactory(name="Stella Stop", first_name="Stella", owner_id=rep.id)
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts/{contact.id}")
    consent = page.locator("#consent")
    consent.get_by_role("button", name="Opt out").click()
    # Everywhere on the page at once: the badge, the banner, the message form.
    expect(page.locator("#consent-badge")).to_contain_text("Opted out")
    expect(page.get_by_text("No outreach.")).to_be_visible()
    expect(page.locator("#log-dir-out")).to_be_disabled()

    consent.get_by_role("link", name="Opt in again…").click()
    expect(consent.get_by_label("Consent")).to_have_value("opted_in")
    consent.get_by_role("button", name="Record change").click()
    expect(consent.get_by_role("alert")).to_contain_text("Say what they said")
    expect(page.locator("#consent-badge")).to_contain_text("Opted out")
    consent.get_by_label("Source").fill("Replied YES to our Instagram DM")
    consent.get_by_label("Stella asked to hear from us again").check()
    consent.get_by_role("button", name="Record change").click()
    expect(page.locator("#consent-badge")).to_contain_text("Opted in")
    expect(page.get_by_text("No outreach.")).to_have_count(0)
    expect(page.locator("#log-dir-out")).to_be_enabled()
    expect(consent).to_contain_text("Replied YES to our Instagram DM")


def test_the_close_form_shows_only_the_chosen_outcomes_fields(page, live_server, sign_in, rep):
    stage = factories.default_stage("Influencer collaborations", 0)
    deal = factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id), stage=stage)
    sign_in(page, rep)
    page.goto(f"{live_server}/deals/{deal.id}")
    page.get_by_text("Close this deal (won or lost)").click()
    form = page.locator("form.close-form")
    reason, reach = form.locator(".when-lost"), form.locator(".when-won")
    expect(reason).to_be_hidden()
    expect(reach).to_be_hidden()
    form.get_by_label("Lost", exact=True).check()
    expect(reason).to_be_visible()
    expect(reach).to_be_hidden()
    form.get_by_label("Won", exact=True).check()
    expect(reach).to_be_visible()
    expect(reason).to_be_hidden()


def test_escape_cancels_an_inline_edit(page, live_server, sign_in, rep, db):
    contact = factories.ContactFactory(name="Maya Chen", company="Glow", owner_id=rep.id)
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts/{contact.id}")
    wait_for_htmx(page, "#field-company .edit-link")
    page.get_by_role("link", name="Edit company").click()
    box = page.locator("#inline-company")
    expect(box).to_be_focused()
    box.fill("Something else")
    box.press("Escape")
    expect(page.locator("#inline-company")).to_have_count(0)
    expect(page.locator("#field-company")).to_contain_text("Glow")
    expect(page.get_by_role("link", name="Edit company")).to_be_focused()
    db.session.refresh(contact)
    assert contact.company == "Glow"


def test_reply_from_the_inbox_lands_on_the_message_box(page, live_server, sign_in, rep, db):
    from datetime import timedelta

    from crm.conversations import services
    from crm.core.timeutil import utcnow
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    for i in range(12):   # a long thread: many messages, each with its actions
        services.log_message(rep, contact, platform="instagram",
                             direction="in" if i % 2 else "out", body=f"Message {i}",
                             sent_at=utcnow() - timedelta(hours=30 - i))
    sign_in(page, rep)
    page.goto(f"{live_server}/inbox")
    page.get_by_role("link", name="Reply").click()
    box = page.get_by_label("Message", exact=True)
    expect(box).to_be_focused()
    expect(box).to_be_in_viewport()
    title = page.locator(".log-head")
    expect(title).to_have_text(re.compile(r"Log a DM\s+with Maya Chen on Instagram"))
    bar = page.locator(".topbar").bounding_box()
    assert title.bounding_box()["y"] >= bar["y"] + bar["height"]   # not under the sticky bar
    # From the top of the page, the message box is two Tab presses away (its skip link).
    page.goto(f"{live_server}/contacts/{contact.id}")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the message box")).to_be_focused()
    page.keyboard.press("Enter")
    expect(box).to_be_focused()


def test_dragging_to_the_boards_edge_scrolls_to_won_and_every_move_can_be_undone(
        page, live_server, sign_in, rep, db):
    from crm.pipeline.models import Deal
    prospect = factories.default_stage("Influencer collaborations", 0)
    won = factories.default_stage("Influencer collaborations", 6)
    deal = factories.DealFactory(contact=factories.ContactFactory(name="Ina Costa",
                                                                  owner_id=rep.id),
                                 stage=prospect, title="Ina summer reel")
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, rep)
    page.goto(f"{live_server}/board?pipeline={prospect.pipeline_id}")
    board = page.locator("[data-board]")
    won_col = page.locator(f"#col-{won.id}")
    expect(won_col).not_to_be_in_viewport()          # eight columns are wider than the screen
    card = page.locator(f"#deal-{deal.id} .deal-card-meta").bounding_box()
    page.mouse.move(card["x"] + 10, card["y"] + card["height"] / 2)
    page.mouse.down()
    page.mouse.move(card["x"] + 40, card["y"] + 30, steps=5)
    # Held at the board's right edge, the board scrolls; the won column is in view at once.
    edge = board.bounding_box()
    page.mouse.move(edge["x"] + edge["width"] - 20, card["y"] + 60, steps=10)
    expect(won_col).to_be_in_viewport()
    page.wait_for_function("() => document.querySelector('[data-board]').scrollLeft > 200")
    target = page.locator(f"#cards-{won.id}").bounding_box()
    page.mouse.move(target["x"] + target["width"] / 2, target["y"] + 40, steps=10)
    page.mouse.up()
    expect(page.locator("#flashes")).to_contain_text("won")
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage_id == won.id
    # Undo: back where it was.
    page.locator("#flashes").get_by_role("button", name="Undo").click()
    expect(page.locator("#flashes")).to_contain_text("moved to Prospect")
    expect(page.locator(f"#cards-{prospect.id} #deal-{deal.id}")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage_id == prospect.id


def test_a_threads_message_actions_do_not_crowd_the_tab_order(page, live_server, sign_in, rep):
    from datetime import timedelta

    from crm.conversations import services
    from crm.core.timeutil import utcnow
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    for i in range(12):
        services.log_message(rep, contact, platform="instagram",
                             direction="in" if i % 2 else "out", body=f"Message {i}",
                             sent_at=utcnow() - timedelta(hours=30 - i))
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts/{contact.id}")
    thread = page.get_by_role("log")
    thread.focus()
    page.keyboard.press("Tab")         # past the thread: no message's Edit or Delete
    assert page.evaluate("() => !document.activeElement.closest('.thread')")
    thread.focus()
    page.keyboard.press("ArrowUp")     # the latest message…
    expect(page.locator(".msg").last).to_be_focused()
    page.keyboard.press("ArrowUp")     # …the one before
    latest_but_one = page.locator(".msg").nth(-2)
    expect(latest_but_one).to_be_focused()
    page.keyboard.press("Tab")         # its own actions, and only its own
    expect(latest_but_one.get_by_role("link", name="Edit")).to_be_focused()
