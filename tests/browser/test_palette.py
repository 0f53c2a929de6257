"""The command palette (Ctrl+K, /) and the lists' keyboard shortcuts (j, k, Enter, r, e, s, ?),
clicked through in Chromium by keyboard; screenshots of both at 1366 and 390 px, light and dark."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.contacts.services import refresh_search_text
from crm.conversations import services as conversations
from crm.conversations.models import Conversation
from crm.core.timeutil import utcnow
from tests import factories
from tests.browser.conftest import SCREENSHOTS, wait_for_htmx
from tests.browser.test_every_page import AXE, DESKTOP, PHONE, SCHEMES, _axe


@pytest.fixture
def people(db, rep, other_rep):
    maya = factories.ContactFactory(name="Maya Lindqvist", owner_id=rep.id, company="Makes Studio")
    factories.HandleFactory(contact=maya, platform="instagram", handle="maya.makes")
    refresh_search_text(maya)
    factories.ContactFactory(name="Mayara Santos", owner_id=rep.id)
    olga = factories.ContactFactory(name="Maya Other", owner_id=other_rep.id)
    factories.DealFactory(contact=maya, title="Maya spring reel", owner_id=rep.id)
    db.session.flush()
    at = utcnow() - timedelta(hours=3)
    for i, contact in enumerate([maya, olga]):
        conversations.log_message(rep if contact is maya else other_rep, contact,
                                  platform="instagram", direction="in",
                                  body=f"Is the invoice for maya ready? ({i})",
                                  sent_at=at + timedelta(minutes=i))
    db.session.commit()
    return {"maya": maya}


def _inbox(db, rep, n=3):
    """`n` people waiting on the rep, oldest first."""
    contacts = []
    for i in range(n):
        contact = factories.ContactFactory(name=f"Waiting {chr(65 + i)}", owner_id=rep.id)
        db.session.flush()
        conversations.log_message(rep, contact, platform="instagram", direction="in",
                                  body=f"Hello from {contact.name}",
                                  sent_at=utcnow() - timedelta(hours=10 - i))
        contacts.append(contact)
    db.session.commit()
    return contacts


def _focused(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.id || "
                         "document.activeElement.textContent.trim())")


def test_ctrl_k_opens_the_palette_arrows_choose_and_enter_opens_the_contact(
        page, live_server, sign_in, rep, people):
    sign_in(page, rep)
    page.goto(f"{live_server}/inbox")
    wait_for_htmx(page, "#palette-q")
    page.keyboard.press("Control+k")
    box = page.get_by_role("combobox", name="Find contacts")
    expect(page.locator("#palette")).to_be_visible()
    expect(box).to_be_focused()
    box.press_sequentially("maya")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("group", name="Contacts").get_by_role("option")).to_have_count(2)
    expect(listbox).not_to_contain_text("Maya Other")      # another rep's contact
    expect(listbox.get_by_role("group", name="Deals")).to_contain_text("Maya spring reel")
    expect(listbox.get_by_role("group", name="Messages")).to_contain_text("invoice for maya")
    expect(box).to_have_attribute("aria-expanded", "true")
    first = listbox.get_by_role("option").first
    expect(first).to_have_attribute("aria-selected", "true")   # Enter would open it
    box.press("ArrowDown")
    second = listbox.get_by_role("option").nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    box.press("ArrowUp")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(first).to_contain_text("Maya Lindqvist")
    box.press("Enter")
    expect(page).to_have_url(f"{live_server}/contacts/{people['maya'].id}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Maya Lindqvist")
    expect(page.locator("#palette")).to_be_hidden()


def test_slash_opens_it_a_pasted_url_finds_the_person_and_escape_gives_focus_back(
        page, live_server, sign_in, rep, people):
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts")
    wait_for_htmx(page, "#palette-q")
    inbox_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox")
    inbox_link.focus()
    page.keyboard.press("/")
    box = page.get_by_role("combobox", name="Find contacts")
    expect(box).to_be_focused()
    box.fill("https://www.instagram.com/maya.makes/")
    expect(page.get_by_role("option", name=re.compile("Maya Lindqvist"))).to_be_visible()
    expect(page.get_by_role("listbox")).not_to_contain_text("Mayara")
    box.press("Escape")
    expect(page.locator("#palette")).to_be_hidden()
    expect(inbox_link).to_be_focused()
    # "/" typed into a field is a character, not a shortcut.
    search = page.locator("#q")
    search.fill("")
    search.press_sequentially("a/b")
    expect(search).to_have_value("a/b")
    expect(page.locator("#palette")).to_be_hidden()


def test_enter_on_the_last_option_opens_the_full_search_page(page, live_server, sign_in, rep,
                                                            people):
    sign_in(page, rep)
    page.goto(f"{live_server}/")
    wait_for_htmx(page, "#palette-q")
    page.get_by_role("link", name="Search").click()   # the header's button, for mouse and touch
    box = page.get_by_role("combobox", name="Find contacts")
    box.press_sequentially("invoice")
    expect(page.get_by_role("option").first).to_contain_text("Maya Lindqvist")
    box.press("ArrowUp")          # from the first option up wraps round to the last
    expect(page.get_by_role("option").last).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=invoice$"))
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()


def test_j_k_enter_move_and_open_in_the_inbox(page, live_server, sign_in, rep, db):
    waiting = _inbox(db, rep)
    sign_in(page, rep)
    page.goto(f"{live_server}/inbox")
    wait_for_htmx(page, "#palette-q")
    rows = page.locator("[data-shortcut-row]")
    expect(rows).to_have_count(3)
    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile("is-current"))
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("j")      # stops at the last row
    expect(rows.nth(2)).to_have_class(re.compile("is-current"))
    page.keyboard.press("k")
    expect(rows.nth(1)).to_have_class(re.compile("is-current"))
    expect(rows.nth(2)).not_to_have_class(re.compile("is-current"))
    expect(rows.nth(1).get_by_role("link", name=waiting[1].name)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/contacts/{waiting[1].id}\?conversation="))


def test_r_opens_the_reply_box_of_the_highlighted_conversation(page, live_server, sign_in, rep,
                                                               db):
    waiting = _inbox(db, rep, n=2)
    sign_in(page, rep)
    page.goto(f"{live_server}/inbox")
    wait_for_htmx(page, "#palette-q")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("r")
    expect(page).to_have_url(re.compile(rf"/contacts/{waiting[1].id}\?.*reply=1"))
    expect(page.locator("#log-dm textarea")).to_be_focused()


def test_e_marks_no_reply_needed_and_the_next_row_is_highlighted(page, live_server, sign_in,
                                                                 rep, db):
    waiting = _inbox(db, rep)
    sign_in(page, rep)
    page.goto(f"{live_server}/inbox")
    wait_for_htmx(page, "#palette-q")
    page.keyboard.press("j")
    page.keyboard.press("e")
    expect(page.locator("#flashes")).to_contain_text(f"Conversation with {waiting[0].name} marked as done")
    rows = page.locator("[data-shortcut-row]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_class(re.compile("is-current"))
    expect(rows.nth(0)).to_contain_text(waiting[1].name)
    page.keyboard.press("e")
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text(waiting[2].name)


def test_s_snoozes_the_highlighted_conversation_for_a_day(page, live_server, sign_in, rep, db):
    waiting = _inbox(db, rep)
    sign_in(page, rep)
    page.goto(f"{live_server}/inbox")
    wait_for_htmx(page, "#palette-q")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("s")
    expect(page.locator(".bulk-summary")).to_contain_text("snoozed")
    rows = page.locator("[data-shortcut-row]")
    expect(rows).to_have_count(2)
    expect(page.locator("#main")).not_to_contain_text(waiting[1].name)
    expect(page.locator("[data-shortcut-row].is-current")).to_contain_text(waiting[2].name)
    db.session.expire_all()
    conv = db.session.scalars(select(Conversation).where(
        Conversation.contact_id == waiting[1].id)).one()
    assert conv.snoozed_until is not None


def test_s_snoozes_and_e_completes_a_task_on_today(page, live_server, sign_in, rep, db):
    for i in range(2):
        factories.TaskFactory(title=f"Call back {i}", assignee_id=rep.id,
                              due_at=utcnow() - timedelta(hours=2 - i))
    db.session.commit()
    sign_in(page, rep)
    page.goto(f"{live_server}/today")
    wait_for_htmx(page, "#palette-q")
    page.keyboard.press("j")
    first = page.locator("[data-shortcut-row].is-current")
    expect(first).to_contain_text("Call back 0")
    page.keyboard.press("s")
    expect(page.locator("#main")).to_contain_text("Snoozed until")
    expect(page.locator("[data-shortcut-row].is-current")).to_contain_text("Call back 0")
    page.keyboard.press("j")
    expect(page.locator("[data-shortcut-row].is-current")).to_contain_text("Call back 1")
    page.keyboard.press("e")
    expect(page.get_by_role("button", name="Undo: “Call back 1” is not done")).to_be_visible()


def test_question_mark_lists_the_shortcuts_and_keys_wait_while_typing(page, live_server,
                                                                      sign_in, rep, db):
    for name in ("Jo Listed", "Ann Listed", "Bo Listed"):
        factories.ContactFactory(name=name, owner_id=rep.id)
    db.session.commit()
    sign_in(page, rep)
    page.goto(f"{live_server}/contacts")
    wait_for_htmx(page, "#palette-q")
    rows = page.locator("[data-shortcut-row]")
    expect(rows).to_have_count(3)
    search = page.locator("#q")
    search.focus()
    search.press("j")                 # typed, not a shortcut
    expect(search).to_have_value("j")
    expect(rows).to_have_count(1)     # the list answered the search: "Jo Listed"
    expect(page.locator("[data-shortcut-row].is-current")).to_have_count(0)
    page.locator("main h1").click()   # out of the field
    page.keyboard.press("Control+j")  # with a modifier: the browser's, not ours
    expect(page.locator("[data-shortcut-row].is-current")).to_have_count(0)
    page.keyboard.press("j")
    expect(page.locator("[data-shortcut-row].is-current")).to_contain_text("Jo Listed")
    current = _focused(page)
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("no reply needed")
    page.keyboard.press("j")          # the dialog is open: nothing moves behind it
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert _focused(page) == current


def _palette_state(page, base):
    page.goto(f"{base}/inbox")
    wait_for_htmx(page, "#palette-q")
    page.keyboard.press("Control+k")
    page.get_by_role("combobox", name="Find contacts").press_sequentially("maya")
    expect(page.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("ArrowDown")


def _shortcuts_state(page, base):
    page.goto(f"{base}/inbox")
    wait_for_htmx(page, "#palette-q")
    page.keyboard.press("j")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_palette_and_shortcuts_axe_and_screenshots(browser, live_server, sign_in, rep, db,
                                                   people, scheme):
    _inbox(db, rep, n=3)
    SCREENSHOTS.mkdir(exist_ok=True)
    problems = {}
    for width, viewport in (("1366", DESKTOP), ("390", PHONE)):
        context = browser.new_context(viewport=viewport, color_scheme=scheme,
                                      bypass_csp=True, is_mobile=width == "390")
        try:
            page = context.new_page()
            sign_in(page, rep)
            for name, arrive in (("palette", _palette_state), ("shortcuts", _shortcuts_state)):
                arrive(page, live_server)
                page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}-{scheme}.png"))
                if width == "1366" and (found := _axe(page)):
                    problems[name] = found
        finally:
            context.close()
    assert AXE.exists()
    assert not problems, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in problems.items())
