"""Tasks in the browser: edit one in place on the contact page (Escape cancels), snooze one to
a chosen date on Today, and a stale edit shows the task as it now is; the edit form at desktop
and phone width, without serious axe-core violations."""
from datetime import timedelta

from playwright.sync_api import expect

from crm.core.timeutil import local, utcnow
from tests import factories
from tests.browser.conftest import SCREENSHOTS, wait_for_htmx
from tests.browser.test_every_page import _axe, _wider_than_screen


def test_edit_a_task_in_place_on_the_contact_page(page, live_server, sign_in, rep, db):
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    task = factories.TaskFactory(title="Send the rate card", contact_id=contact.id,
                                 assignee_id=rep.id, due_at=utcnow() + timedelta(days=1))
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts/{contact.id}")
    row = page.locator(f"#task-{task.id}")
    wait_for_htmx(page, f"#task-{task.id} .edit-link")
    row.get_by_role("link", name="Edit “Send the rate card”").click()
    title = row.get_by_role("textbox", name="Task", exact=True)
    expect(title).to_have_value("Send the rate card")
    title.fill("Something else")
    title.press("Escape")                               # Escape cancels, nothing saved
    expect(row.get_by_role("link", name="Edit “Send the rate card”")).to_be_focused()
    row.get_by_role("link", name="Edit “Send the rate card”").click()
    row.get_by_role("textbox", name="Task", exact=True).fill("Send the 2031 rate card")
    row.get_by_role("textbox", name="Notes").fill("With the new prices")
    row.get_by_role("button", name="Save").click()
    expect(row).to_contain_text("Saved.")
    expect(row).to_contain_text("With the new prices")
    assert page.url == f"{live_server}/contacts/{contact.id}"     # in place
    db.session.expire_all()
    assert db.session.get(type(task), task.id).title == "Send the 2031 rate card"


def test_a_stale_edit_shows_the_task_as_it_now_is(page, live_server, sign_in, rep, db):
    from crm.tasks import services
    task = factories.TaskFactory(title="Call back", assignee_id=rep.id,
                                 due_at=utcnow() + timedelta(hours=3))
    sign_in(page, rep)
    page.goto(f"{live_server}/today")
    row = page.locator(f"#task-{task.id}")
    wait_for_htmx(page, f"#task-{task.id} .edit-link")
    row.get_by_role("link", name="Edit “Call back”").click()
    row.get_by_role("textbox", name="Task", exact=True).fill("Mine")
    services.update_task(rep, db.session.get(type(task), task.id),
                         {"title": "Theirs", "due_at": task.due_at})
    db.session.commit()
    row.get_by_role("button", name="Save").click()
    expect(row.get_by_role("alert")).to_contain_text("changed by someone else")
    expect(row.get_by_role("textbox", name="Task", exact=True)).to_have_value("Theirs")


def test_snooze_a_task_to_a_chosen_date(page, live_server, sign_in, rep, db):
    task = factories.TaskFactory(title="Chase invoice", assignee_id=rep.id,
                                 due_at=utcnow() - timedelta(days=1))
    sign_in(page, rep)
    page.goto(f"{live_server}/today")
    row = page.locator(f"#task-{task.id}")
    wait_for_htmx(page, f"#task-{task.id} .snooze-date-form")
    row.get_by_label("Snooze “Chase invoice” to a date").click()
    past = (local(utcnow(), rep.timezone).date() - timedelta(days=3)).isoformat()
    row.get_by_label("Snooze until").fill(past)
    row.get_by_role("button", name="Snooze", exact=True).click()
    expect(row.get_by_role("alert")).to_contain_text("Snooze until: that date is in the past")
    day = local(utcnow(), rep.timezone).date() + timedelta(days=10)
    row.get_by_label("Snooze until").fill(day.isoformat())
    row.get_by_role("button", name="Snooze", exact=True).click()
    expect(row).to_contain_text(f"Snoozed until {day:%a %d %b}")
    db.session.expire_all()
    assert local(db.session.get(type(task), task.id).due_at, rep.timezone).date() == day


def test_the_task_edit_form_at_desktop_and_phone_width(browser, live_server, sign_in, rep, db):
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id)
    task = factories.TaskFactory(title="Send the rate card", contact_id=contact.id,
                                 assignee_id=rep.id, notes="Before Friday",
                                 due_at=utcnow() + timedelta(days=1))
    SCREENSHOTS.mkdir(exist_ok=True)
    for width, height in ((1366, 900), (390, 844)):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      bypass_csp=True)
        page = context.new_page()
        sign_in(page, rep)
        page.goto(f"{live_server}/contacts/{contact.id}")
        wait_for_htmx(page, f"#task-{task.id} .edit-link")
        page.locator(f"#task-{task.id}").get_by_label("Snooze “Send the rate card” to a date").click()
        expect(page.get_by_label("Snooze until")).to_be_visible()
        page.locator(f"#tasks-contact-{contact.id}").screenshot(
            path=str(SCREENSHOTS / f"task-snooze-date-{width}.png"))
        assert _axe(page) == []
        page.locator(f"#task-{task.id}").get_by_role("link", name="Edit “Send the rate card”").click()
        expect(page.locator(f"#task-{task.id} form.task-edit")).to_be_visible()
        page.locator(f"#tasks-contact-{contact.id}").screenshot(
            path=str(SCREENSHOTS / f"task-edit-{width}.png"))
        assert _axe(page) == []
        assert _wider_than_screen(page) == []
        context.close()
