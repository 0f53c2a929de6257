"""A manager opens the dashboard, switches the date range, and follows a figure to its list."""
import re
from datetime import timedelta

from playwright.sync_api import expect

from crm.contacts import dm_counts
from crm.conversations.models import Conversation, Message, ResponseTime
from crm.core.timeutil import utcnow
from crm.pipeline.models import Stage
from tests import factories


def _workspace(db, manager, rep):
    """A few weeks of activity ending now: DMs, a waiting conversation, deals in two stages."""
    now = utcnow()
    for i, days in enumerate((2, 5, 12, 20)):
        contact = factories.ContactFactory(name=f"Creator {i}", owner_id=rep.id)
        conv = Conversation(contact_id=contact.id, platform="instagram", state="needs_reply",
                            waiting_since=now - timedelta(days=days, hours=-2),
                            last_outbound_at=now - timedelta(days=days), message_count=2)
        db.session.add(conv)
        db.session.flush()
        db.session.add_all([
            Message(conversation_id=conv.id, direction="out", body="Hi!", author_id=rep.id,
                    sent_at=now - timedelta(days=days),
                    replied_at=now - timedelta(days=days, hours=-2)),
            Message(conversation_id=conv.id, direction="in", body="Hello",
                    sent_at=now - timedelta(days=days, hours=-2)),
            ResponseTime(conversation_id=conv.id,
                         burst_started_at=now - timedelta(days=days, hours=-2))])
        factories.DealFactory(contact=contact, title=f"Collab {i}", owner_id=rep.id,
                              stage=factories.default_stage("Sales", i % 2))
    dm_counts.recount()   # written past the services, as `flask reports rebuild-rollup` does
    db.session.commit()
    return db.session.get(Stage, factories.default_stage("Sales", 0).id)


def test_change_the_range_and_drill_down(page, live_server, sign_in, manager, rep, db):
    first_stage = _workspace(db, manager, rep)
    sign_in(page, manager)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    dms = page.locator("section[aria-labelledby=dash-dms-h]")
    expect(dms).to_contain_text("4 sent")                    # last 30 days, the default
    expect(page.locator("#dm-trend-t")).to_have_text(re.compile("DMs sent, received"))

    page.get_by_text("Last 7 days", exact=True).click()       # a radio in the filter bar
    expect(page).to_have_url(re.compile(r"preset=7d"))
    expect(dms).to_contain_text("2 sent")
    expect(page.locator("#preset-7d")).to_be_checked()

    # The funnel's bars and the stage table link to the deals behind them.
    page.locator("section[aria-labelledby=dash-pipeline-h] table.dash-table").get_by_role(
        "link", name="2", exact=True).first.click()
    expect(page).to_have_url(re.compile(rf"/dashboard/deals\?.*stage={first_stage.id}"))
    expect(page.get_by_role("heading", name="Open deals in New")).to_be_visible()
    expect(page.locator("table")).to_contain_text("Collab 0")
    expect(page.locator("table")).to_contain_text("Collab 2")
    page.get_by_role("link", name="← Dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboard\?preset=7d"))
    expect(page.locator("#preset-7d")).to_be_checked()
