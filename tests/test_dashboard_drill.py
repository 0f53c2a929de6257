"""Drill-down lists: every dashboard number opens the records behind it, scoped exactly like
the number, paged by keyset, with a constant number of queries."""
import re

import pytest

from tests import factories
from tests.test_dashboard_figures import build_world

RANGE = "preset=custom&from=2026-03-09&to=2026-03-15"


@pytest.fixture
def world(db, manager, rep, other_rep):
    return build_world(db, manager, rep, other_rep)


def listed(html: str, names) -> list[str]:
    """Which of `names` appear in the page, in page order."""
    found = [(html.find(n), n) for n in names if n in html]
    return [n for _, n in sorted(found)]


DEALS = ["Won in range", "Lost then reopened", "Lost in range", "Old and idle", "Euro deal",
         "Won before", "With a task"]


@pytest.mark.parametrize("query, expected", [
    ("view=open", ["With a task", "Euro deal", "Old and idle", "Lost then reopened"]),
    ("view=won", ["Won in range"]),
    ("view=lost", ["Lost in range"]),
    ("view=no_next_step", ["Old and idle", "Lost then reopened"]),
    ("view=reached&won=1", ["Won in range"]),
])
def test_deal_lists_match_the_figures(auth, world, query, expected):
    html = auth.login(world.manager).get(f"/dashboard/deals?{RANGE}&{query}").get_data(
        as_text=True)
    assert listed(html, DEALS) == expected


def test_stage_drill_downs(auth, world):
    client = auth.login(world.manager)
    new, replied = world.stages["New"].id, world.stages["Replied"].id
    html = client.get(f"/dashboard/deals?{RANGE}&view=open&stage={new}").get_data(as_text=True)
    assert listed(html, DEALS) == ["Old and idle"] and "Open deals in New" in html
    reached = client.get(f"/dashboard/deals?{RANGE}&view=reached&stage={replied}")
    assert listed(reached.get_data(as_text=True), DEALS) == ["Lost then reopened", "Won in range"]
    moved = client.get(f"/dashboard/deals?{RANGE}&view=moved_out&stage={new}")
    assert listed(moved.get_data(as_text=True), DEALS) == [
        "Euro deal", "Lost in range", "Lost then reopened", "Won in range"]


def test_a_rep_drills_into_their_own_deals_only(auth, world):
    html = auth.login(world.rep).get(
        f"/dashboard/deals?{RANGE}&view=open&owner={world.other.id}").get_data(as_text=True)
    assert listed(html, DEALS) == ["With a task", "Old and idle", "Lost then reopened"]
    assert "Euro deal" not in html


def test_message_lists(auth, world):
    client = auth.login(world.manager)
    sent = client.get(f"/dashboard/messages?{RANGE}&direction=out").get_data(as_text=True)
    assert sent.count("<tr>") - 1 == 6
    replied = client.get(f"/dashboard/messages?{RANGE}&direction=out&replied=1&author="
                         f"{world.rep.id}").get_data(as_text=True)
    assert replied.count('<span class="badge badge-ok">Replied</span>') == 2
    assert replied.count("<tr>") - 1 == 2
    day = client.get(f"/dashboard/messages?{RANGE}&direction=in&period=3").get_data(as_text=True)
    assert "(Thu 12)" in day and day.count("<tr>") - 1 == 2
    templ = client.get(f"/dashboard/messages?{RANGE}&direction=out&template={world.template.id}")
    assert templ.get_data(as_text=True).count("First pitch") >= 2
    platform = client.get(f"/dashboard/messages?{RANGE}&direction=out&on=x")
    assert platform.get_data(as_text=True).count("<tr>") - 1 == 1


def test_waiting_and_response_time_lists(auth, world):
    client = auth.login(world.manager)
    waiting = client.get(f"/dashboard/waiting?{RANGE}").get_data(as_text=True)
    assert listed(waiting, ["Cole Two", "Cleo Three", "Cy Five"]) == ["Cole Two", "Cleo Three"]
    over = client.get(f"/dashboard/waiting?{RANGE}&over=1").get_data(as_text=True)
    assert "waiting more than 24 h" in over               # months ago by now: both are over
    assert listed(over, ["Cole Two", "Cleo Three", "Cy Five"]) == ["Cole Two", "Cleo Three"]
    late = client.get(f"/dashboard/response-times?{RANGE}&which=late").get_data(as_text=True)
    assert "Answered after the target" in late and "1 d 2 h" in late     # 26 h
    assert listed(late, ["Cara One", "Cole Two", "Cleo Three"]) == ["Cole Two"]
    closed = client.get(f"/dashboard/response-times?{RANGE}&which=closed").get_data(as_text=True)
    assert listed(closed, ["Cruz Four", "Cole Two"]) == ["Cruz Four"]
    assert "closed without a reply" in closed
    late_waiting = client.get(f"/dashboard/response-times?{RANGE}&which=waiting_late")
    assert listed(late_waiting.get_data(as_text=True), ["Cole Two", "Cy Five", "Cleo Three"]) == [
        "Cleo Three", "Cy Five", "Cole Two"]
    mine = client.get(f"/dashboard/response-times?{RANGE}&which=answered&responder="
                      f"{world.other.id}").get_data(as_text=True)
    assert listed(mine, ["Cara One", "Cole Two", "Cleo Three"]) == ["Cleo Three"]


def test_task_and_consent_lists(auth, world):
    client = auth.login(world.manager)
    overdue = client.get(f"/dashboard/tasks?{RANGE}&view=overdue").get_data(as_text=True)
    # every open task is overdue by now, the longest overdue first
    assert re.findall(r"<td>(t\d+)", overdue) == ["t6", "t3", "t1", "t2", "t8", "t7", "t10"]
    nobody = client.get(f"/dashboard/tasks?{RANGE}&view=overdue&assignee=none")
    assert re.findall(r"<td>(t\d+)", nobody.get_data(as_text=True)) == ["t6"]
    done = client.get(f"/dashboard/tasks?{RANGE}&view=done").get_data(as_text=True)
    assert re.findall(r"<td>(t\d+)", done) == ["t4", "t9"]
    replied = client.get(f"/dashboard/tasks?{RANGE}&view=follow_ups_replied")
    assert re.findall(r"<td>(t\d+)", replied.get_data(as_text=True)) == ["t9"]
    opt_outs = client.get(f"/dashboard/opt-outs?{RANGE}").get_data(as_text=True)
    assert listed(opt_outs, ["Cleo Three", "Cole Two", "Cruz Four"]) == [
        "Cruz Four", "Cole Two", "Cleo Three"]
    by_source = client.get(f"/dashboard/opt-outs?{RANGE}&source=Legal+request")
    assert listed(by_source.get_data(as_text=True), ["Cleo Three", "Cole Two"]) == ["Cole Two"]
    refused = client.get(f"/dashboard/refusals?{RANGE}&action=outreach+task").get_data(
        as_text=True)
    assert "Refused: Cruz Four opted out." in refused and "Cleo Three" not in refused
    unknown = client.get(f"/dashboard/unknown-consent?{RANGE}").get_data(as_text=True)
    assert listed(unknown, ["Cara One", "Cole Two", "Cy Five"]) == ["Cara One"]


def test_unknown_lists_and_values_are_not_found(auth, world):
    client = auth.login(world.manager)
    assert client.get("/dashboard/secrets").status_code == 404
    assert client.get("/dashboard/deals?view=everything").status_code == 404
    assert client.get("/dashboard/deals?stage=99999").status_code == 404
    assert client.get("/dashboard/messages?direction=sideways").status_code == 404
    assert client.get("/dashboard/messages?period=99").status_code == 404
    assert client.get("/dashboard/deals?after=yesterday~x").status_code == 404


def test_lists_page_by_keyset_with_a_constant_number_of_queries(auth, db, manager,
                                                                 count_queries):
    contact = factories.ContactFactory(owner_id=manager.id)
    for i in range(55):
        factories.DealFactory(contact=contact, title=f"Deal {i:02d}", owner_id=manager.id)
    db.session.commit()
    client = auth.login(manager)
    client.get("/dashboard/deals?view=open")
    auth.login(manager)
    with count_queries() as q:
        first = client.get("/dashboard/deals?view=open").get_data(as_text=True)
    assert "Deal 54" in first and "Deal 05" in first and "Deal 04" not in first
    assert q.count <= 6
    nxt = re.search(r'href="([^"]*after=[^"]*)"', first).group(1).replace("&amp;", "&")
    second = client.get(nxt).get_data(as_text=True)
    assert [f"Deal 0{i}" in second for i in range(5)] == [True] * 5 and "Deal 05" not in second
    assert "← First page" in second


def test_the_dashboards_links_open_the_list_each_figure_names(auth, world):
    """Every drill-down link on the dashboard opens a list that exists, and each kind of
    figure links to its own list (a message count to messages, a deal count to deals…)."""
    client = auth.login(world.manager)
    html = client.get(f"/dashboard?{RANGE}").get_data(as_text=True)
    links = set(re.findall(r'href="(/dashboard/[a-z-]+\?[^"]*)"', html))
    kinds = {re.match(r"/dashboard/([a-z-]+)\?", link).group(1) for link in links}
    assert {"messages", "deals", "tasks", "opt-outs", "refusals", "unknown-consent",
            "response-times"} <= kinds
    for link in links:
        query = link.split("?", 1)[1].replace("&amp;", "&")
        kind = link.split("?", 1)[0].rsplit("/", 1)[1]
        if "direction=" in query or "replied=" in query or "author=" in query:
            assert kind == "messages", link
        if "view=won" in query or "stage=" in query:
            assert kind == "deals", link
        assert client.get(link.replace("&amp;", "&")).status_code == 200, link
