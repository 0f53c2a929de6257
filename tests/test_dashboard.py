"""The dashboard page over HTTP: filters in the URL, HTMX panels, permissions, CSV exports,
a constant number of queries, and fresh figures after the user's own change."""
import csv
import io

import pytest
from crm.conversations import services as dms
from crm.core import cache
from tests import factories
from tests.test_dashboard_figures import build_world

RANGE = "preset=custom&from=2026-03-09&to=2026-03-15"


@pytest.fixture
def world(db, manager, rep, other_rep):
    return build_world(db, manager, rep, other_rep)


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode())))


def test_signed_out_visitors_are_sent_to_sign_in(client):
    resp = client.get("/dashboard")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_manager_sees_every_panel_with_accessible_charts(auth, world):
    resp = auth.login(world.manager).get(f"/dashboard?{RANGE}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" in html
    for heading in ("Pipeline", "DMs", "Work", "Consent", "Leaderboard"):
        assert f">{heading}</h2>" in html
    # trend, value, funnel, opt-outs: named groups of links (an image may hold no link)
    assert html.count('role="group" aria-labelledby=') >= 4
    assert 'aria-labelledby="dm-trend-t dm-trend-d"' in html
    assert '<title id="dm-trend-t">DMs sent, received and replied to' in html
    assert '<table class="sr-only">' in html
    assert "Otto Other" in html and "Rae Rep" in html        # everyone's leaderboard
    assert 'name="owner"' in html                            # managers may pick an owner
    assert "cdn" not in html.lower() and "<script src=\"http" not in html


def test_filters_live_in_the_url_and_are_shown_back(auth, world, db):
    pipeline = world.stages["New"].pipeline
    resp = auth.login(world.manager).get(
        f"/dashboard?{RANGE}&owner={world.rep.id}&pipeline={pipeline.id}&platform=x")
    html = resp.get_data(as_text=True)
    assert 'id="preset-custom" name="preset" value="custom" checked' in html
    assert 'value="2026-03-09"' in html and 'value="2026-03-15"' in html
    assert f'<option value="{world.rep.id}" selected>' in html
    assert f'<option value="{pipeline.id}" selected>' in html
    assert '<option value="x" selected>' in html
    assert "Rae Rep’s records" in html


def test_htmx_updates_the_panels_alone(auth, world):
    client = auth.login(world.manager)
    resp = client.get(f"/dashboard?{RANGE}&owner=&platform=", headers={
        "HX-Request": "true", "HX-Target": "dashboard-body"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in html
    assert ">Pipeline</h2>" in html and 'id="leaderboard"' in html
    assert 'id="preset-custom" name="preset" value="custom" checked' in html   # the filters too
    assert resp.headers["HX-Push-Url"] == "/dashboard?preset=custom&from=2026-03-09&to=2026-03-15"
    assert "HX-Request" in resp.headers.get("Vary", "")
    # The summary export in the page's head follows the filters changed in place.
    assert ('<a id="dashboard-export" class="btn" href="/dashboard/export/summary.csv?preset=custom'
            '&amp;from=2026-03-09&amp;to=2026-03-15" hx-boost="false" hx-swap-oob="true">') in html
    board = client.get(f"/dashboard?{RANGE}&sort=sent&dir=desc",
                       headers={"HX-Request": "true", "HX-Target": "leaderboard"})
    text = board.get_data(as_text=True)
    assert "<html" not in text and ">Pipeline</h2>" not in text
    assert text.index("Rae Rep") < text.index("Otto Other") < text.index("Mia Manager")
    assert 'aria-sort="descending"' in text


def test_the_filter_form_works_without_javascript(auth, world):
    client = auth.login(world.manager)
    html = client.get("/dashboard").get_data(as_text=True)
    assert '<form class="filters dash-filters" method="get" action="/dashboard"' in html
    assert 'hx-get="/dashboard" hx-target="#dashboard-body" hx-push-url="true"' in html
    assert "<noscript>" in html and ">Apply</button>" in html
    # the form sends every field; the answer is the same view at its short address
    sent = client.get("/dashboard?preset=7d&from=2026-03-01&to=2026-03-02&owner=&pipeline="
                      "&campaign=&platform=")
    assert sent.status_code == 302 and sent.headers["Location"] == "/dashboard?preset=7d"


def test_a_bad_date_is_named_and_the_default_range_is_shown(auth, world):
    resp = auth.login(world.manager).get("/dashboard?preset=custom&from=31/02/2026&to=2026-03-15")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "From must be a date (YYYY-MM-DD)." in html
    assert 'id="range-from" name="from" value="31/02/2026"' in html and 'aria-invalid="true"' in html
    swapped = auth.login(world.manager).get("/dashboard?preset=custom&from=2026-03-15&to=2026-03-01")
    assert "To must be on or after From." in swapped.get_data(as_text=True)
    unknown = auth.login(world.manager).get("/dashboard?preset=forever")
    assert "Choose a date range from the list." in unknown.get_data(as_text=True)


def test_a_rep_sees_only_their_own_records(auth, world):
    resp = auth.login(world.rep).get(f"/dashboard?{RANGE}&owner={world.other.id}")
    assert resp.status_code == 302 and "owner" not in resp.headers["Location"]
    html = auth.login(world.rep).get(resp.headers["Location"]).get_data(as_text=True)
    assert "your records" in html
    assert "Otto Other" not in html and "Mia Manager" not in html
    assert 'name="owner"' not in html
    assert "You see your own records" in html


def test_csv_exports_carry_the_same_figures(auth, world):
    client = auth.login(world.manager)
    resp = client.get(f"/dashboard/export/dm-reps.csv?{RANGE}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="rapport-dm-reps-')
    assert rows_of(resp.data) == [["Person", "DMs sent", "Replies", "Reply rate"],
                                  ["Rae Rep", "3", "2", "0.6667"],
                                  ["Otto Other", "2", "1", "0.5"],
                                  ["Mia Manager", "1", "0", "0"]]
    leaders = rows_of(client.get(f"/dashboard/export/leaderboard.csv?{RANGE}").data)
    assert leaders[0] == ["Person", "DMs sent", "Replies", "Reply rate",
                          "Median first response (seconds)", "Won value (USD)"]
    assert leaders[1] == ["Rae Rep", "3", "2", "0.6667", "48600", "1000"]
    trend = rows_of(client.get(f"/dashboard/export/trend.csv?{RANGE}").data)
    assert trend[1] == ["2026-03-09", "1", "1", "0"] and len(trend) == 8
    stages = rows_of(client.get(f"/dashboard/export/stages.csv?{RANGE}&pipeline="
                                f"{world.stages['New'].pipeline_id}").data)
    assert stages[0][:5] == ["Pipeline", "Stage", "Open deals", "Open value (EUR)",
                             "Open value (USD)"]
    assert stages[1][:8] == ["Sales", "New", "1", "0", "300", "4", "1", "4"]
    assert stages[-1][:6] == ["Sales", "Won", "", "", "", "1"]
    summary = dict(rows_of(client.get(f"/dashboard/export/summary.csv?{RANGE}").data)[1:])
    assert summary["DMs sent"] == "6" and summary["Win rate"] == "0.5"
    assert summary["Median first response (seconds)"] == "5400"
    assert client.get("/dashboard/export/passwords.csv").status_code == 404


def test_a_reps_export_holds_only_their_records(auth, world):
    rows = rows_of(auth.login(world.rep).get(f"/dashboard/export/dm-reps.csv?{RANGE}").data)
    assert rows == [["Person", "DMs sent", "Replies", "Reply rate"], ["Rae Rep", "3", "2", "0.6667"]]


def test_csv_cells_that_look_like_formulas_are_quoted(auth, world, db):
    world.rep.name = "=HYPERLINK(1)"
    db.session.commit()
    rows = rows_of(auth.login(world.manager).get(f"/dashboard/export/dm-reps.csv?{RANGE}").data)
    assert ["'=HYPERLINK(1)", "3", "2", "0.6667"] in rows


def test_query_count_does_not_grow_with_the_data(auth, world, db, count_queries):
    client = auth.login(world.manager)
    client.get(f"/dashboard?{RANGE}")
    auth.login(world.manager)
    with count_queries() as few:
        client.get(f"/dashboard?{RANGE}")
    contact = factories.ContactFactory(owner_id=world.other.id)
    for i in range(30):
        conv = factories.ConversationFactory(contact=contact, external_thread_id=f"t{i}",
                                             state="needs_reply",
                                             waiting_since=world.msgs["m4"].sent_at)
        factories.MessageFactory(conversation=conv, direction="out", author_id=world.other.id,
                                 sent_at=world.msgs["m4"].sent_at)
        factories.DealFactory(contact=contact, owner_id=world.other.id)
        factories.TaskFactory(assignee_id=world.other.id, due_at=world.msgs["m4"].sent_at)
    auth.login(world.manager)
    with count_queries() as refreshing:
        resp = client.get(f"/dashboard?{RANGE}")
    assert resp.status_code == 200
    # The first load after the change refreshes the changed hour of the DM rollup (a fixed
    # number of statements per changed hour and zone, whatever the number of messages).
    assert refreshing.count <= few.count + 25
    auth.login(world.manager)
    with count_queries() as many:
        resp = client.get(f"/dashboard?{RANGE}")
    assert resp.status_code == 200
    assert many.count == few.count <= 30


def test_the_users_own_change_shows_on_the_next_load(app, auth, world, db, count_queries):
    app.config["REPORTS_CACHE"] = True
    cache.clear()
    try:
        client = auth.login(world.rep)
        first = rows_of(client.get("/dashboard/export/summary.csv").data)
        with count_queries() as again:
            client.get("/dashboard/export/summary.csv")
        with count_queries() as cold:
            cache.clear()
            client.get("/dashboard/export/summary.csv")
        assert again.count < cold.count                      # the second load was remembered
        dms.log_message(world.rep, world.contacts["c1"], platform="instagram", direction="out",
                        body="Following up on the reel!")
        db.session.commit()
        after = rows_of(client.get("/dashboard/export/summary.csv").data)
        sent = {r[0]: r[1] for r in first[1:]}["DMs sent"]
        assert {r[0]: r[1] for r in after[1:]}["DMs sent"] == str(int(sent) + 1)
    finally:
        app.config.pop("REPORTS_CACHE")
        cache.clear()


def test_refusals_by_the_consent_gate_are_counted(auth, world, db, hx):
    client = auth.login(world.rep)
    before = dict(rows_of(client.get("/dashboard/export/summary.csv").data)[1:])
    resp = client.post(f"/contacts/{world.contacts['c2'].id}/messages", headers=hx, data={
        "platform": "x", "direction": "out", "body": "One more try?"})
    assert resp.status_code == 200 and "Refused" in resp.get_data(as_text=True)
    after = dict(rows_of(client.get("/dashboard/export/summary.csv").data)[1:])
    assert int(after["Outreach refused"]) == int(before["Outreach refused"]) + 1
    assert after["DMs sent"] == before["DMs sent"]          # nothing was written


def test_a_bar_chart_leaves_room_for_its_longest_figure():
    """The open value per stage writes "$2,919,300 · 1303 deals" right of its longest bar:
    the bar stops where that text still fits in the chart (about 8 units a character)."""
    from crm.reports.charts import Bar, bar_chart

    bars = [Bar("Prospect", 2_919_300, "$2,919,300 · 1303 deals", None),
            Bar("Pitched", 2_560_000, "$2,560,000 · 1114 deals", None)]
    chart = bar_chart(bars)
    longest = max(bars, key=lambda b: b.width)
    assert chart.label_width + longest.width + 8 + 8 * len(longest.display) <= chart.width
