"""The board: columns with counts and totals, cards, show more, filters, moves from the card
select (no JS) and from a drag (HTMX), scoping and a query count that does not grow."""
import re
from datetime import timedelta

import pytest
from crm.accounts.models import User
from crm.conversations.models import Conversation
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.pipeline.board import COLUMN_SIZE
from crm.pipeline.models import Deal, Stage
from tests import factories


def sales(db, name) -> Stage:
    return factories.default_stage("Sales", ["New", "Contacted", "Replied", "Qualified",
                                             "Proposal", "Won", "Lost"].index(name))


def column(html: str, stage_id: int) -> str:
    start = html.index(f'id="col-{stage_id}"')
    return html[start:html.index("</section>", start)]


def head(html: str, stage_id: int) -> str:
    start = html.index(f'id="col-head-{stage_id}"')
    return html[start:html.index("</header>", start)]


def figures(html: str, stage_id: int) -> tuple[int, str]:
    col = head(html, stage_id)
    count = int(re.search(r'data-count="(\d+)"', col).group(1))
    total = re.search(r"data-total>([^<]*)<", col).group(1).strip()
    return count, total


def card(html: str, deal_id: int) -> str:
    start = html.rfind("<article", 0, html.index(f'id="deal-{deal_id}"'))
    return html[start:html.index("</article>", start)]


def deal_for(owner, stage, value=100_000, **kw):
    contact = factories.ContactFactory(owner_id=owner.id)
    return factories.DealFactory(contact=contact, stage=stage, value_minor=value, **kw)


def test_columns_show_count_and_total(auth, db, rep):
    new, won = sales(db, "New"), sales(db, "Won")
    deal_for(rep, new, 150_000)
    deal_for(rep, new, 50_000)
    deal_for(rep, won, 900_000, closed_at=utcnow())
    deal_for(rep, new, 20_000, currency="EUR")
    resp = auth.login(rep).get(f"/board?pipeline={new.pipeline_id}")
    html = resp.data.decode()
    assert resp.status_code == 200
    assert figures(html, new.id) == (3, "$2,000 + €200")
    assert figures(html, won.id) == (1, "$9,000")
    # Won and lost columns are drop targets that show figures, not cards.
    assert "deal-card" not in column(html, won.id)
    assert 'data-outcome="won"' in column(html, won.id)


def test_another_reps_deals_are_not_on_the_board_or_in_totals(auth, db, rep, other_rep):
    new = sales(db, "New")
    deal_for(rep, new, 100_000, title="Mine")
    theirs = deal_for(other_rep, new, 700_000, title="Theirs")
    html = auth.login(rep).get(f"/board?pipeline={new.pipeline_id}").data.decode()
    assert "Mine" in html and "Theirs" not in html
    assert figures(html, new.id) == (1, "$1,000")
    more = auth.client.get(f"/board/stages/{new.id}/cards").data.decode()
    assert "Theirs" not in more
    manager_html = auth.login(factories.UserFactory(role="manager")).get(
        f"/board?pipeline={new.pipeline_id}").data.decode()
    assert "Theirs" in manager_html and figures(manager_html, new.id) == (2, "$8,000")
    assert theirs.id


def test_show_more_pages_through_a_column(auth, db, manager, hx):
    new = sales(db, "New")
    now = utcnow()
    deals = [deal_for(manager, new, title=f"Lead {i:02d}",
                      stage_entered_at=now - timedelta(hours=i)) for i in range(COLUMN_SIZE + 5)]
    client = auth.login(manager)
    html = client.get(f"/board?pipeline={new.pipeline_id}").data.decode()
    col = column(html, new.id)
    assert col.count("deal-card-title") == COLUMN_SIZE
    assert "Lead 00" in col and f"Lead {COLUMN_SIZE - 1:02d}" in col
    link = re.search(r'hx-get="([^"]+after=[^"]+)"', html).group(1).replace("&amp;", "&")
    more = client.get(link, headers=hx)
    body = more.data.decode()
    assert "<html" not in body
    assert body.count("deal-card-title") == 5
    assert f"Lead {COLUMN_SIZE:02d}" in body and "Lead 00" not in body
    assert 'id="more-' in body and "Show more" not in body   # the last page
    plain = client.get(link)
    assert plain.status_code == 200 and b"<html" in plain.data and len(deals) == COLUMN_SIZE + 5


def cold_get(client, url):
    """A request as in production: nothing cached from the test or earlier requests (each
    request has its own app context, so its own session)."""
    return client.get(url)


def test_board_query_count_does_not_grow_with_cards(auth, db, manager, count_queries):
    new_id, qualified_id = sales(db, "New").id, sales(db, "Qualified").id
    url = f"/board?pipeline={sales(db, 'New').pipeline_id}"
    client = auth.login(manager)
    manager_id = manager.id

    def add(n):
        owner = db.session.get(User, manager_id)
        new, qualified = db.session.get(Stage, new_id), db.session.get(Stage, qualified_id)
        for i in range(n):
            deal = deal_for(owner, new if i % 2 else qualified)
            db.session.add(Conversation(contact_id=deal.contact_id, platform="instagram",
                                        state="awaiting_reply", last_message_at=utcnow(),
                                        last_outbound_at=utcnow()))
            factories.TaskFactory(contact_id=deal.contact_id, deal_id=deal.id,
                                  assignee_id=manager_id)
        db.session.commit()

    add(3)
    cold_get(client, url)   # warm-up: the first visit may create the pipelines
    with count_queries() as few:
        assert cold_get(client, url).status_code == 200
    add(30)
    with count_queries() as many:
        html = cold_get(client, url).data.decode()
    # 16 deals in New and 17 in Qualified, each column showing its newest COLUMN_SIZE.
    assert html.count("deal-card-title") == min(16, COLUMN_SIZE) + min(17, COLUMN_SIZE)
    assert many.count == few.count, many.statements


def test_card_shows_contact_value_days_last_dm_and_next_task(auth, db, rep):
    new = sales(db, "New")
    contact = factories.ContactFactory(name="Ines Costa", owner_id=rep.id)
    factories.HandleFactory(contact=contact, platform="tiktok", handle="ines.costa")
    deal = factories.DealFactory(contact=contact, stage=new, value_minor=250_000,
                                 platform="tiktok", stage_entered_at=utcnow() - timedelta(days=4))
    db.session.add(Conversation(contact_id=contact.id, platform="tiktok", state="needs_reply",
                                last_message_at=utcnow() - timedelta(hours=5),
                                last_inbound_at=utcnow() - timedelta(hours=5)))
    factories.TaskFactory(title="Send the media kit", contact_id=contact.id, deal_id=deal.id,
                          assignee_id=rep.id, due_at=utcnow() + timedelta(days=1))
    html = auth.login(rep).get(f"/board?pipeline={new.pipeline_id}").data.decode()
    shown = card(html, deal.id)
    for text in ("Ines Costa", "@ines.costa", "$2,500", "4 d in stage", "Needs reply",
                 "they wrote 5 h ago", "Send the media kit", "chip-tiktok"):
        assert text in shown, text
    assert "No next step" not in shown


def test_open_deal_without_next_step_or_task_is_flagged(auth, db, rep):
    new = sales(db, "New")
    bare = deal_for(rep, new, title="Bare deal")
    planned = deal_for(rep, new, title="Planned deal", next_step="Call on Friday")
    client = auth.login(rep)
    html = client.get(f"/board?pipeline={new.pipeline_id}").data.decode()
    bare_card, planned_card = card(html, bare.id), card(html, planned.id)
    assert "No next step" in bare_card and "needs-step" in bare_card
    assert "No next step" not in planned_card and "Call on Friday" in planned_card
    assert b"No next step." in client.get(f"/deals/{bare.id}").data
    assert b"No next step." not in client.get(f"/deals/{planned.id}").data


def test_filters_narrow_cards_and_totals(auth, db, manager, rep, other_rep, hx):
    new = sales(db, "New")
    campaign = factories.CampaignFactory(name="Summer glow")
    deal_for(rep, new, 100_000, title="Rep instagram", platform="instagram")
    deal_for(other_rep, new, 200_000, title="Other tiktok", platform="tiktok",
             campaign_id=campaign.id)
    client = auth.login(manager)
    p = new.pipeline_id
    by_owner = client.get(f"/board?pipeline={p}&owner={rep.id}",
                          headers={**hx, "HX-Target": "board"})
    body = by_owner.data.decode()
    assert "<html" not in body and "Rep instagram" in body and "Other tiktok" not in body
    assert figures(body, new.id) == (1, "$1,000")
    by_campaign = client.get(f"/board?pipeline={p}&campaign={campaign.id}").data.decode()
    assert "Other tiktok" in by_campaign and "Rep instagram" not in by_campaign
    by_platform = client.get(f"/board?pipeline={p}&platform=tiktok").data.decode()
    assert figures(by_platform, new.id) == (1, "$2,000")


def test_card_moves_without_javascript_through_its_columns_menu(auth, db, rep):
    new, contacted = sales(db, "New"), sales(db, "Contacted")
    deal = deal_for(rep, new)
    client = auth.login(rep)
    html = client.get(f"/board?pipeline={new.pipeline_id}&owner=me").data.decode()
    # One stage menu per column, in its header; the card has a button that submits it.
    menu = head(html, new.id)
    assert f'<form class="col-move" id="move-{new.id}" method="post"' in menu
    assert f'<select name="stage_id" id="move-to-{new.id}">' in menu
    assert f'<option value="{new.id}" selected>New</option>' in menu
    assert '<input type="hidden" name="owner" value="me">' in menu
    shown = card(html, deal.id)
    assert "<select" not in shown and "<form" not in shown
    assert (f'form="move-{new.id}" formaction="/deals/{deal.id}/move" name="version" '
            f'value="{deal.version}"') in shown
    assert html.count(f'id="move-to-') == len([c for c in re.findall(r'data-outcome="(\w+)"',
                                                                     html) if c == "open"])
    resp = client.post(f"/deals/{deal.id}/move", data={
        "stage_id": contacted.id, "version": deal.version, "board": "1",
        "from_stage_id": new.id, "pipeline": new.pipeline_id, "owner": "me"})
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith(f"/board?pipeline={new.pipeline_id}&owner=me")
    db.session.expire_all()
    assert deal.stage_id == contacted.id


def test_drag_answer_moves_the_card_and_updates_both_column_heads(auth, db, rep, hx):
    new, contacted = sales(db, "New"), sales(db, "Contacted")
    deal = deal_for(rep, new, 300_000)
    deal_for(rep, new, 100_000)
    resp = auth.login(rep).post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": contacted.id, "version": deal.version, "board": "1",
        "from_stage_id": new.id})
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "dealMoved"
    body = resp.data.decode()
    assert "<html" not in body
    assert figures(body, new.id) == (1, "$1,000")
    assert figures(body, contacted.id) == (1, "$3,000")
    assert 'hx-swap-oob="true"' in head(body, new.id)
    # The card leaves wherever it is and comes back at the top of its new column, with the
    # version the move left and the new column's menu.
    delete = f'<article id="deal-{deal.id}" hx-swap-oob="delete"></article>'
    insert = f'<div hx-swap-oob="afterbegin:#cards-{contacted.id}">'
    assert delete in body and insert in body and body.index(delete) < body.index(insert)
    db.session.expire_all()
    moved = card(body[body.index(insert):], deal.id)
    assert f'form="move-{contacted.id}"' in moved and f'value="{deal.version}"' in moved
    # Only the two heads: no whole column, no other column, no summary (no deal opened or
    # closed), and no menu or card of the columns left alone.
    assert "<section" not in body and body.count("deal-card-title") == 1
    assert f'id="col-head-{sales(db, "Qualified").id}"' not in body
    assert 'id="board-summary"' not in body
    assert "moved to Contacted" in body
    assert '<div id="board-dialog" hx-swap-oob="true"></div>' in body


def test_a_move_reads_its_pipeline_and_stages_with_the_deal(auth, db, rep, hx,
                                                           count_queries):
    """The target stage, the pipeline and the columns the answer redraws come with the deal:
    one statement for the stages, none for the pipeline on its own."""
    new, contacted = sales(db, "New"), sales(db, "Contacted")
    deal = deal_for(rep, new, 300_000)
    client = auth.login(rep)
    url, form = f"/deals/{deal.id}/move", {"stage_id": contacted.id, "version": deal.version,
                                           "board": "1", "from_stage_id": new.id}
    with count_queries() as q:
        resp = client.post(url, headers=hx, data=form)
    assert resp.status_code == 200 and "moved to Contacted" in resp.data.decode()
    reads = [" ".join(s.split()) for s in q.statements if s.lstrip().startswith("SELECT")]
    assert len([s for s in reads if "FROM stages WHERE" in s]) == 1, reads
    assert not [s for s in reads if "FROM pipelines WHERE" in s], reads


def test_every_move_on_the_board_offers_undo(auth, db, rep, other_rep, hx):
    new, won = sales(db, "New"), sales(db, "Won")
    deal = deal_for(rep, new, 300_000)
    client = auth.login(rep)
    body = client.post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": won.id, "version": deal.version, "board": "1",
        "from_stage_id": new.id}).data.decode()
    db.session.expire_all()
    undo = body[body.index('id="flashes"'):]
    assert f'name="stage_id" value="{new.id}"' in undo and ">Undo<" in undo
    assert f'name="version" value="{db.session.get(Deal, deal.id).version}"' in undo
    form = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', undo))
    form.pop("csrf_token", None)
    body = client.post(f"/deals/{deal.id}/move", headers=hx, data=form).data.decode()
    db.session.expire_all()
    assert db.session.get(Deal, deal.id).stage_id == new.id and "moved to New" in body
    # Not on someone else's deal.
    theirs = deal_for(other_rep, new, 100_000)
    assert client.post(f"/deals/{theirs.id}/move", headers=hx, data={
        "stage_id": won.id, "version": theirs.version, "board": "1"}).status_code == 404


def test_closing_on_the_board_updates_the_summary_and_shows_no_card(auth, db, rep, hx):
    new, won = sales(db, "New"), sales(db, "Won")
    deal = deal_for(rep, new, 300_000)
    deal_for(rep, new, 100_000)
    resp = auth.login(rep).post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": won.id, "version": deal.version, "board": "1", "from_stage_id": new.id})
    body = resp.data.decode()
    assert resp.headers["HX-Trigger"] == "dealMoved"
    assert figures(body, won.id) == (1, "$3,000") and figures(body, new.id) == (1, "$1,000")
    assert f'<article id="deal-{deal.id}" hx-swap-oob="delete"></article>' in body
    assert "hx-swap-oob=\"afterbegin" not in body and "deal-card-title" not in body
    summary = body[body.index('id="board-summary"'):]
    assert 'hx-swap-oob="true"' in summary[:80]
    assert re.search(r"<strong>1</strong> open deal\s", summary) and "$1,000" in summary
    # A won column has no menu: nothing is listed there.
    assert "col-move" not in head(body, won.id)


def test_a_move_to_the_stage_it_is_in_changes_nothing(auth, db, rep, hx):
    new = sales(db, "New")
    deal = deal_for(rep, new)
    version = deal.version
    resp = auth.login(rep).post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": new.id, "version": version, "board": "1", "from_stage_id": new.id})
    body = resp.data.decode()
    assert resp.status_code == 200 and "HX-Trigger" not in resp.headers
    assert "is already in New" in body and "hx-swap-oob=\"delete\"" not in body
    assert figures(body, new.id) == (1, "$1,000")
    db.session.expire_all()
    assert deal.version == version


def test_a_stale_card_on_the_board_changes_nothing_and_comes_back(auth, db, rep, hx):
    new, contacted, qualified = sales(db, "New"), sales(db, "Contacted"), sales(db, "Qualified")
    deal = deal_for(rep, new)
    stale = deal.version
    client = auth.login(rep)
    client.post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": contacted.id, "version": stale, "board": "1", "from_stage_id": new.id})
    late = client.post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": qualified.id, "version": stale, "board": "1", "from_stage_id": new.id})
    body = late.data.decode()
    assert "was changed by someone else" in body and "flash-error" in body
    assert "HX-Trigger" not in late.headers
    # The columns involved come back whole, the card in the one it really is in.
    assert f'id="deal-{deal.id}"' in column(body, contacted.id)
    assert "deal-card" not in column(body, qualified.id) and "deal-card" not in column(body, new.id)
    assert figures(body, contacted.id) == (1, "$1,000") and figures(body, qualified.id)[0] == 0
    db.session.expire_all()
    assert deal.stage_id == contacted.id and deal.version == stale + 1


def test_another_reps_deal_cannot_be_moved_from_the_board(auth, db, rep, other_rep, hx):
    new, contacted = sales(db, "New"), sales(db, "Contacted")
    theirs = deal_for(other_rep, new)
    resp = auth.login(rep).post(f"/deals/{theirs.id}/move", headers=hx, data={
        "stage_id": contacted.id, "version": theirs.version, "board": "1",
        "from_stage_id": new.id})
    assert resp.status_code == 404
    db.session.expire_all()
    assert theirs.stage_id == new.id


def test_a_move_answer_counts_only_what_the_rep_may_see(auth, db, rep, other_rep, hx):
    new, contacted = sales(db, "New"), sales(db, "Contacted")
    mine = deal_for(rep, new, 100_000)
    deal_for(other_rep, contacted, 900_000)
    # A deal another rep owns on a contact this rep may see (unassigned) counts too.
    shared = factories.DealFactory(contact=factories.ContactFactory(owner_id=None),
                                   stage=contacted, owner_id=other_rep.id, value_minor=50_000)
    resp = auth.login(rep).post(f"/deals/{mine.id}/move", headers=hx, data={
        "stage_id": contacted.id, "version": mine.version, "board": "1",
        "from_stage_id": new.id})
    assert figures(resp.data.decode(), contacted.id) == (2, "$1,500")
    assert shared.id


def test_bad_move_input_on_the_board_is_refused(auth, db, rep, hx):
    new = sales(db, "New")
    deal = deal_for(rep, new)
    other_pipeline = factories.default_stage("Influencer collaborations", 1)
    client = auth.login(rep)
    for stage_id in ("", "abc", str(other_pipeline.id), "99999"):
        resp = client.post(f"/deals/{deal.id}/move", headers=hx, data={
            "stage_id": stage_id, "version": deal.version, "board": "1",
            "from_stage_id": "nonsense"})
        body = resp.data.decode()
        assert resp.status_code == 200 and "flash-error" in body, stage_id
        assert "Choose a stage of this deal" in body and "HX-Trigger" not in resp.headers
    db.session.expire_all()
    assert deal.stage_id == new.id


def test_retired_stage_with_deals_stays_visible(auth, db, manager):
    qualified = sales(db, "Qualified")
    deal = deal_for(manager, qualified, title="Stuck in a retired stage")
    qualified.retired_at = utcnow()
    db.session.commit()
    html = auth.login(manager).get(f"/board?pipeline={qualified.pipeline_id}").data.decode()
    assert "Stuck in a retired stage" in html and "Retired" in column(html, qualified.id)
    # Its own column's menu still names it, but no other column offers it as a move target.
    assert f'<option value="{qualified.id}" selected>Qualified (retired)' in head(html, qualified.id)
    assert f'form="move-{qualified.id}"' in card(html, deal.id)
    new = sales(db, "New")
    deal_for(manager, new)
    html = auth.client.get(f"/board?pipeline={qualified.pipeline_id}").data.decode()
    assert f'<option value="{qualified.id}"' not in head(html, new.id)


def test_column_page_without_javascript_has_the_menu_its_cards_submit(auth, db, manager):
    won = sales(db, "Won")
    deal = deal_for(manager, won, title="Closed and won", closed_at=utcnow())
    html = auth.login(manager).get(f"/board/stages/{won.id}/cards").data.decode()
    assert "<html" in html and "Closed and won" in html
    assert f'<form class="col-move" id="move-{won.id}" method="post">' in html
    assert 'hx-post' not in html[html.index('class="col-move"'):html.index("</form>")]
    assert f'form="move-{won.id}" formaction="/deals/{deal.id}/move"' in card(html, deal.id)


def test_cards_show_the_deals_own_task_or_one_on_the_contact(auth, db, rep):
    new = sales(db, "New")
    contact = factories.ContactFactory(owner_id=rep.id)
    first = factories.DealFactory(contact=contact, stage=new, title="First deal")
    second = factories.DealFactory(contact=contact, stage=new, title="Second deal")
    soon = utcnow() + timedelta(days=1)
    factories.TaskFactory(title="Task of the first deal", contact_id=contact.id,
                          deal_id=first.id, assignee_id=rep.id, due_at=soon)
    factories.TaskFactory(title="Task on the contact", contact_id=contact.id,
                          assignee_id=rep.id, due_at=soon + timedelta(days=1))
    factories.TaskFactory(title="Done already", contact_id=contact.id, deal_id=second.id,
                          assignee_id=rep.id, due_at=utcnow(), status="done")
    html = auth.login(rep).get(f"/board?pipeline={new.pipeline_id}").data.decode()
    assert "Task of the first deal" in card(html, first.id)
    shown = card(html, second.id)
    assert "Task on the contact" in shown
    assert "Task of the first deal" not in shown and "Done already" not in shown


@pytest.mark.parametrize("url", ["/board?pipeline=999", "/board?owner=x&platform=nope"])
def test_board_tolerates_odd_parameters(auth, rep, url):
    assert auth.login(rep).get(url).status_code == 200


def test_unknown_stage_column_is_404(auth, rep):
    assert auth.login(rep).get("/board/stages/9999/cards").status_code == 404



def test_winning_a_collaboration_on_the_board_points_to_the_results(auth, db, rep, hx):
    prospect = factories.default_stage("Influencer collaborations", 0)
    completed = factories.default_stage("Influencer collaborations", 6)
    deal = deal_for(rep, prospect)
    resp = auth.login(rep).post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": completed.id, "version": deal.version, "board": "1"})
    assert "Record the posted content and its results" in resp.data.decode()
    db.session.expire_all()
    assert deal.outcome == "won" and deal.closed_at is not None


def test_card_escapes_everything_it_shows(auth, db, rep):
    new = sales(db, "New")
    contact = factories.ContactFactory(name='Al "<i>" Bo', owner_id=rep.id)
    factories.HandleFactory(contact=contact, platform="instagram", handle="<al>")
    deal = factories.DealFactory(contact=contact, stage=new, title="<script>x</script>",
                                 platform="instagram", next_step="<b>call</b>")
    db.session.commit()
    html = auth.login(rep).get(f"/board?pipeline={new.pipeline_id}").data.decode()
    got = card(html, deal.id)
    assert "<script>" not in got and "&lt;script&gt;x&lt;/script&gt;" in got
    assert 'aria-label="&lt;script&gt;' in got and 'aria-label="Move &lt;script&gt;' in got
    assert "Al &#34;&lt;i&gt;&#34; Bo" in got and "@&lt;al&gt;" in got
    assert "→ &lt;b&gt;call&lt;/b&gt;" in got and "<b>" not in got


def test_kept_board_statements_follow_each_viewers_scope(auth, db, rep, other_rep, manager):
    """The board's statements are built once per scope and filters (crm.core.statements):
    another rep, a manager, and the same rep made a manager each get their own."""
    new = sales(db, "New")
    mine, theirs = deal_for(rep, new), deal_for(other_rep, new)
    db.session.commit()
    url = f"/board?pipeline={new.pipeline_id}"

    def shown(user):
        html = auth.login(user).get(url).data.decode()
        return {d.id for d in (mine, theirs) if f'id="deal-{d.id}"' in html}, figures(html, new.id)

    assert shown(rep) == ({mine.id}, (1, "$1,000"))
    assert shown(other_rep) == ({theirs.id}, (1, "$1,000"))
    assert shown(rep) == ({mine.id}, (1, "$1,000"))
    assert shown(manager) == ({mine.id, theirs.id}, (2, "$2,000"))
    rep.role = "manager"
    db.session.commit()
    assert shown(rep) == ({mine.id, theirs.id}, (2, "$2,000"))
    html = auth.login(rep).get(url + "&owner=me").data.decode()
    assert f'id="deal-{mine.id}"' in html and f'id="deal-{theirs.id}"' not in html
