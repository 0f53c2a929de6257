"""Dragging cards on the board in Chromium: the column totals follow, and a drop on the lost
column asks why before anything is saved."""
from playwright.sync_api import expect

from crm.pipeline.models import Deal
from tests import factories


def drag(page, card, target):
    """Drag with real mouse events (SortableJS runs in fallback mode, as for touch)."""
    start = card.locator(".deal-card-meta").bounding_box()
    end = target.bounding_box()
    page.mouse.move(start["x"] + 10, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(start["x"] + 30, start["y"] + 20, steps=5)
    # A quick sweep and an immediate release: on the way to "Lost" the card crosses "Won",
    # and the column under the pointer at the release must be the one that counts.
    page.mouse.move(end["x"] + end["width"] / 2, end["y"] + min(60, end["height"] / 2), steps=25)
    page.mouse.up()


def test_drag_to_another_stage_then_to_lost(page, live_server, sign_in, db, rep):
    new = factories.default_stage("Sales", 0)
    contacted = factories.default_stage("Sales", 1)
    lost = factories.default_stage("Sales", 6)
    contact = factories.ContactFactory(name="Hugo Reyes", owner_id=rep.id)
    big = factories.DealFactory(contact=contact, stage=new, title="Reyes annual plan",
                                value_minor=1_200_000, next_step="Send proposal")
    small = factories.DealFactory(contact=factories.ContactFactory(name="Lena Weber",
                                                                   owner_id=rep.id),
                                  stage=new, title="Weber pilot", value_minor=300_000)
    page.set_viewport_size({"width": 1900, "height": 950})
    sign_in(page, rep)
    page.goto(f"{live_server}/board?pipeline={new.pipeline_id}")
    new_col, contacted_col = page.locator(f"#col-{new.id}"), page.locator(f"#col-{contacted.id}")
    expect(new_col.locator(".col-total")).to_have_text("$15,000")
    expect(page.locator("#board-summary")).to_contain_text("2 open deals worth $15,000")
    expect(contacted_col.locator(".col-count")).to_have_text("0")

    drag(page, page.locator(f"#deal-{big.id}"), page.locator(f"#cards-{contacted.id}"))
    expect(contacted_col.locator(".col-total")).to_have_text("$12,000")
    expect(contacted_col.locator(".col-count")).to_have_text("1")
    expect(new_col.locator(".col-total")).to_have_text("$3,000")
    expect(contacted_col.locator(f"#deal-{big.id}")).to_be_visible()
    expect(page.locator("#flashes")).to_contain_text("moved to Contacted")

    lost_col = page.locator(f"#col-{lost.id}")
    drag(page, page.locator(f"#deal-{small.id}"), page.locator(f"#cards-{lost.id}"))
    dialog = page.locator("#lost-dialog")
    expect(dialog).to_be_visible()
    expect(new_col.locator(f"#deal-{small.id}")).to_be_attached()   # back until confirmed
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(dialog).to_contain_text("Choose why the deal was lost.")
    dialog.get_by_label("Why was it lost?").select_option(label="Chose a competitor")
    dialog.get_by_label("In your words").fill("Went with their in-house team")
    dialog.get_by_role("button", name="Mark as lost").click()
    expect(page.locator("#lost-dialog")).to_have_count(0)
    expect(lost_col.locator(".col-count")).to_have_text("1")
    expect(lost_col.locator(".col-total")).to_have_text("$3,000")
    expect(new_col.locator(".col-count")).to_have_text("0")
    expect(page.locator("#flashes")).to_contain_text("marked lost (Chose a competitor)")
    expect(page.locator("#board-summary")).to_contain_text("1 open deal worth $12,000")

    db.session.expire_all()
    moved, closed = db.session.get(Deal, big.id), db.session.get(Deal, small.id)
    assert moved.stage_id == contacted.id
    assert (closed.outcome, closed.lost_reason.name, closed.lost_note) == (
        "lost", "Chose a competitor", "Went with their in-house team")


def test_board_works_without_javascript(browser, live_server, db, rep):
    new = factories.default_stage("Sales", 0)
    qualified = factories.default_stage("Sales", 3)
    deal = factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id), stage=new,
                                 title="No-script deal")
    db.session.commit()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(rep.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/board?pipeline={new.pipeline_id}")
    # One stage menu per column; the card's own button moves it there.
    page.locator(f"#col-{new.id}").get_by_label("Move to").select_option(label="Qualified")
    page.locator(f"#deal-{deal.id}").get_by_role("button", name="Move No-script deal").click()
    expect(page.locator(f"#col-{qualified.id} .col-count")).to_have_text("1")
    expect(page.locator(".flash-success")).to_contain_text("moved to Qualified")
    context.close()


def test_column_menu_and_card_button_move_in_place(page, live_server, sign_in, db, rep):
    """The keyboard path with JavaScript on: choose a stage in the column's menu, press the
    card's button; htmx posts it, the card goes to the top of its new column, both heads
    update and the page is not reloaded."""
    new = factories.default_stage("Sales", 0)
    proposal = factories.default_stage("Sales", 4)
    older = factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id),
                                  stage=proposal, title="Already in proposal",
                                  value_minor=100_000)
    deal = factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id), stage=new,
                                 title="Keyboard deal", value_minor=250_000)
    page.set_viewport_size({"width": 1900, "height": 950})
    sign_in(page, rep)
    page.goto(f"{live_server}/board?pipeline={new.pipeline_id}")
    page.evaluate("window.notReloaded = true")
    page.locator(f"#col-{new.id}").get_by_label("Move to").select_option(label="Proposal")
    page.locator(f"#deal-{deal.id}").get_by_role("button", name="Move Keyboard deal").focus()
    page.keyboard.press("Enter")
    proposal_col = page.locator(f"#col-{proposal.id}")
    expect(proposal_col.locator(".col-count")).to_have_text("2")
    expect(proposal_col.locator(".col-total")).to_have_text("$3,500")
    expect(page.locator(f"#col-{new.id} .col-count")).to_have_text("0")
    expect(proposal_col.locator(".deal-card").first).to_have_id(f"deal-{deal.id}")
    expect(proposal_col.locator(f"#deal-{older.id}")).to_be_visible()
    expect(page.locator(f"#deal-{deal.id}")).to_have_count(1)
    expect(page.locator("#flashes")).to_contain_text("moved to Proposal")
    # The menu it came from is back on its own stage, and the new one drives the card now.
    expect(page.locator(f"#move-to-{new.id}")).to_have_value(str(new.id))
    expect(page.locator(f"#col-{new.id} .col-empty")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True
    page.locator(f"#col-{proposal.id}").get_by_label("Move to").select_option(label="Qualified")
    page.locator(f"#deal-{deal.id}").get_by_role("button", name="Move Keyboard deal").click()
    expect(page.locator(f"#col-{factories.default_stage('Sales', 3).id} #deal-{deal.id}")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage.name == "Qualified"
