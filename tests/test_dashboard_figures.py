"""Every dashboard figure, computed by hand on a small workspace built with the models directly,
compared exactly — for a manager (UTC) and for a rep in New York, whose dashboard counts only
their own records and whose days start four hours later.

The workspace (now = Sun 15 Mar 2026 12:00 UTC; "last 7 days" = 9–15 March):
- DMs: six conversations with their kept reply state written out by hand, including a burst
  answered after the 24 h target, a closed conversation nobody answered, a wait on an archived
  contact, and messages either side of New York's midnight;
- deals in the Sales pipeline with their stage history, including one lost and then reopened;
- tasks overdue, done, and automatic follow-ups with and without a reply;
- consent events, refusals of the consent gate, and a contact with unknown consent we DMed.
"""
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import false, select

from crm import policy
from crm.audit.models import AuditEvent
from crm.contacts import dm_counts
from crm.contacts.models import ConsentEvent
from crm.conversations import reply_state
from crm.conversations.models import Conversation, Message, ResponseTime
from crm.pipeline.defaults import ensure_default_pipelines
from crm.pipeline.models import Deal, Pipeline, Stage, StageChange
from crm.reports.consent_figures import DM_REPLY_SOURCE
from crm.reports.dashboard import build_dashboard
from crm.reports.filters import DashboardFilters
from crm.tasks.models import Task
from tests import factories

NOW = datetime(2026, 3, 15, 12, 0)
NEW_YORK = "America/New_York"


def at(day, hour, minute=0, month=3):
    return datetime(2026, month, day, hour, minute)


@dataclass
class World:
    manager: object
    rep: object
    other: object
    contacts: dict
    convs: dict
    msgs: dict
    deals: dict
    stages: dict
    template: object


def _conv(db, key, contact, platform, state, *, waiting_since=None, last_out=None,
          closed_at=None):
    conv = Conversation(contact_id=contact.id, contact_owner_id=contact.owner_id,
                        platform=platform, state=state, waiting_since=waiting_since,
                        last_outbound_at=last_out, closed_at=closed_at, message_count=0,
                        external_thread_id=key)
    db.session.add(conv)
    db.session.flush()
    return conv


def _msg(db, conv, direction, sent_at, author=None, template=None, replied_at=None):
    m = Message(conversation_id=conv.id, direction=direction, sent_at=sent_at, body="hi",
                author_id=author.id if author else None,
                template_id=template.id if template else None, replied_at=replied_at)
    db.session.add(m)
    db.session.flush()
    return m


def _burst(db, conv, started, answered=None, responder=None):
    db.session.add(ResponseTime(
        conversation_id=conv.id, burst_started_at=started, answered_at=answered,
        response_seconds=int((answered - started).total_seconds()) if answered else None,
        responder_id=responder.id if responder else None))


def _deal(db, title, contact, owner, history, *, value=100_000, currency="USD", next_step=None):
    """history: [(stage, at)] — the first entry opens the deal; the last is where it is."""
    stage, entered = history[-1]
    deal = Deal(title=title, contact_id=contact.id, contact_owner_id=contact.owner_id,
                owner_id=owner.id,
                pipeline_id=stage.pipeline_id, stage_id=stage.id, value_minor=value,
                currency=currency, outcome=stage.outcome, stage_entered_at=entered,
                closed_at=entered if stage.outcome != "open" else None, next_step=next_step,
                platform="instagram", created_at=history[0][1])
    db.session.add(deal)
    db.session.flush()
    previous = None
    for stage, when in history:
        db.session.add(StageChange(
            deal_id=deal.id, from_stage_id=previous[0].id if previous else None,
            to_stage_id=stage.id, at=when,
            seconds_in_from_stage=int((when - previous[1]).total_seconds()) if previous else None))
        previous = (stage, when)
    db.session.flush()
    return deal


def build_world(db, manager, rep, other) -> World:
    rep.timezone = NEW_YORK
    f = factories
    c = {
        "c1": f.ContactFactory(name="Cara One", owner_id=rep.id),
        "c2": f.ContactFactory(name="Cole Two", owner_id=rep.id, do_not_contact=True),
        "c3": f.ContactFactory(name="Cleo Three", owner_id=other.id, consent_status="opted_out"),
        "c4": f.ContactFactory(name="Cruz Four", owner_id=None, consent_status="opted_out"),
        "c5": f.ContactFactory(name="Cy Five", owner_id=rep.id, archived_at=at(1, 9)),
    }
    template = f.DMTemplateFactory(name="First pitch")
    v = {}
    A = _conv(db, "A", c["c1"], "instagram", "awaiting_reply", last_out=at(10, 12))
    v["m1"] = _msg(db, A, "out", at(10, 9), rep, template, replied_at=at(10, 11))
    v["m2"] = _msg(db, A, "in", at(10, 11))
    v["m3"] = _msg(db, A, "out", at(10, 12), rep)
    _burst(db, A, at(10, 11), at(10, 12), rep)                      # 1 h
    B = _conv(db, "B", c["c2"], "x", "needs_reply", waiting_since=at(12, 10, 30),
              last_out=at(12, 10))
    v["m4"] = _msg(db, B, "in", at(11, 8))
    v["m17"] = _msg(db, B, "in", at(12, 3, 30))     # 11 March 23:30 in New York
    v["m5"] = _msg(db, B, "out", at(12, 10), rep, template, replied_at=at(12, 10, 30))
    v["m6"] = _msg(db, B, "in", at(12, 10, 30))
    _burst(db, B, at(11, 8), at(12, 10), rep)                       # 26 h: after the target
    _burst(db, B, at(12, 10, 30))                                   # still waiting, 73.5 h
    C = _conv(db, "C", c["c3"], "instagram", "needs_reply", waiting_since=at(15, 11),
              last_out=at(13, 10))
    v["m7"] = _msg(db, C, "out", at(13, 9), other, replied_at=at(13, 9, 30))
    v["m8"] = _msg(db, C, "in", at(13, 9, 30))
    v["m9"] = _msg(db, C, "out", at(13, 10), other)
    v["m10"] = _msg(db, C, "in", at(15, 11))
    _burst(db, C, at(13, 9, 30), at(13, 10), other)                 # 30 min
    _burst(db, C, at(15, 11))                                       # waiting 1 h: undecided
    D = _conv(db, "D", c["c4"], "linkedin", "closed", closed_at=at(14, 11))
    v["m11"] = _msg(db, D, "in", at(14, 10))
    _burst(db, D, at(14, 10))                                       # closed, never answered
    E = _conv(db, "E", c["c1"], "instagram", "awaiting_reply", last_out=at(9, 2, 30))
    v["m12"] = _msg(db, E, "out", at(1, 10), rep, replied_at=at(9, 0, 30))
    v["m13"] = _msg(db, E, "in", at(9, 0, 30))      # 8 March 20:30 in New York
    v["m14"] = _msg(db, E, "out", at(9, 2, 30), manager)
    _burst(db, E, at(9, 0, 30), at(9, 2, 30), manager)              # 2 h
    F = _conv(db, "F", c["c5"], "instagram", "needs_reply", waiting_since=at(14, 9))
    v["m16"] = _msg(db, F, "in", at(14, 9))
    _burst(db, F, at(14, 9))                                        # archived contact, 27 h

    ensure_default_pipelines()
    sales = db.session.scalars(select(Pipeline).where(Pipeline.name == "Sales")).one()
    s = {st.name: st for st in db.session.scalars(select(Stage).where(
        Stage.pipeline_id == sales.id))}
    d = {
        "d1": _deal(db, "Won in range", c["c1"], rep, [(s["New"], at(10, 10)),
                    (s["Contacted"], at(11, 10)), (s["Won"], at(12, 10))], value=100_000),
        "d2": _deal(db, "Lost then reopened", c["c2"], rep, [(s["New"], at(10, 12)),
                    (s["Lost"], at(11, 12)), (s["Replied"], at(12, 12))], value=50_000),
        "d3": _deal(db, "Lost in range", c["c3"], other, [(s["New"], at(11, 9)),
                    (s["Contacted"], at(13, 9)), (s["Lost"], at(14, 9))], value=200_000),
        "d4": _deal(db, "Old and idle", c["c1"], rep, [(s["New"], at(1, 9, month=2))],
                    value=30_000),
        "d5": _deal(db, "Euro deal", c["c3"], other, [(s["New"], at(12, 9)),
                    (s["Contacted"], at(13, 9))], value=70_000, currency="EUR",
                    next_step="Call on Tuesday"),
        "d6": _deal(db, "Won before", c["c1"], rep, [(s["New"], at(1, 9, month=1)),
                    (s["Won"], at(1, 9, month=2))], value=999_00),
        "d7": _deal(db, "With a task", c["c2"], rep, [(s["Qualified"], at(15, 9, month=2))],
                    value=40_000),
    }
    tasks = [
        Task(title="t1", assignee_id=rep.id, status="open", due_at=at(14, 10)),
        Task(title="t2", assignee_id=rep.id, status="open", due_at=at(15, 9)),
        Task(title="t3", assignee_id=other.id, status="open", due_at=at(10, 9)),
        Task(title="t4", assignee_id=rep.id, status="done", due_at=at(11, 9), done_at=at(11, 9)),
        Task(title="t5", assignee_id=rep.id, status="done", due_at=at(5, 9), done_at=at(5, 9)),
        Task(title="t6", assignee_id=None, status="open", due_at=at(1, 9)),
        Task(title="t7", assignee_id=rep.id, status="open", due_at=at(20, 9), deal_id=d["d7"].id),
        Task(title="t8", assignee_id=rep.id, status="open", due_at=at(16, 9), auto=True,
             source_message_id=v["m3"].id, created_at=at(10, 13)),
        Task(title="t9", assignee_id=rep.id, status="done", due_at=at(10, 10), auto=True,
             done_at=at(10, 11, 5), source_message_id=v["m1"].id, created_at=at(10, 9, 30)),
        Task(title="t10", assignee_id=other.id, status="open", due_at=at(20, 9), auto=True,
             source_message_id=v["m12"].id, created_at=at(2, 9)),
    ]
    db.session.add_all(tasks)
    db.session.add_all([
        ConsentEvent(contact_id=c["c3"].id, at=at(12, 9), from_status="unknown",
                     to_status="opted_out", source="Asked by email"),
        ConsentEvent(contact_id=c["c2"].id, at=at(13, 9), from_status="unknown",
                     to_status="unknown", from_dnc=False, to_dnc=True, source="Legal request"),
        ConsentEvent(contact_id=c["c4"].id, at=at(14, 10, 30), from_status="unknown",
                     to_status="opted_out", source="Replied “stop” in LinkedIn DM",
                     evidence_message_id=v["m11"].id),
        ConsentEvent(contact_id=c["c1"].id, at=at(1, 9), from_status="unknown",
                     to_status="opted_in", source="Agreed in DM"),
        ConsentEvent(contact_id=c["c1"].id, at=at(2, 9), from_status="opted_in",
                     to_status="unknown", source="Consent expired"),
    ])
    db.session.add_all([
        AuditEvent(action="outreach_refused", entity_type="contact", entity_id=c["c3"].id,
                   actor_id=rep.id, at=at(13, 9), summary="Refused: Cleo Three opted out.",
                   changes={"action": "outbound DM"}),
        AuditEvent(action="outreach_refused", entity_type="contact", entity_id=c["c4"].id,
                   actor_id=other.id, at=at(14, 12), summary="Refused: Cruz Four opted out.",
                   changes={"action": "outreach task"}),
        AuditEvent(action="outreach_refused", entity_type="contact", entity_id=c["c3"].id,
                   actor_id=rep.id, at=at(1, 9), summary="Refused earlier.",
                   changes={"action": "outbound DM"}),
    ])
    # Written past the services: the copies the reply state keeps (each contact's last
    # outbound DM, each follow-up's answer) and the dashboard's DM counts are counted once,
    # as `flask reports rebuild-rollup` does after a load.
    reply_state.recount_copies()
    dm_counts.recount()
    db.session.commit()
    return World(manager, rep, other, c, {"A": A, "B": B, "C": C, "D": D, "E": E, "F": F},
                 v, d, s, template)


@pytest.fixture
def world(db, manager, rep, other_rep):
    return build_world(db, manager, rep, other_rep)


def dashboard(user, now=NOW, **args):
    filters = DashboardFilters.from_args({"preset": "7d", **args}, user.timezone, now)
    return build_dashboard(user, filters, now)


def stage_row(d, name, pipeline="Sales"):
    block = next(b for b in d.pipeline.blocks if b.pipeline.name == pipeline)
    return next(r for r in block.stages if r.stage.name == name)


# The manager, in UTC ------------------------------------------------------------------------
def test_manager_range_is_the_last_seven_utc_days(world):
    d = dashboard(world.manager)
    assert (d.filters.start, d.filters.end) == (at(9, 0), at(16, 0))
    assert [p.label for p in d.periods] == ["Mon 9", "Tue 10", "Wed 11", "Thu 12", "Fri 13",
                                            "Sat 14", "Sun 15"]


def test_manager_dm_figures(world):
    m = dashboard(world.manager).dms
    assert (m.sent, m.received, m.replied) == (6, 9, 3)
    assert m.reply_rate == 0.5
    assert [(p.sent, p.received, p.replied) for p in m.trend] == [
        (1, 1, 0), (2, 1, 1), (0, 1, 0), (1, 2, 1), (2, 1, 1), (0, 2, 0), (0, 1, 0)]
    by_author = {k: (v.sent, v.replied) for k, v in m.by_author.items()}
    assert by_author == {world.rep.id: (3, 2), world.other.id: (2, 1), world.manager.id: (1, 0)}
    assert {k: (v.sent, v.replied) for k, v in m.by_platform.items()} == {
        "instagram": (5, 2), "x": (1, 1)}
    assert {k: (v.sent, v.replied, v.rate) for k, v in m.by_template.items()} == {
        world.template.id: (2, 2, 1.0)}


def test_manager_response_times(world):
    m = dashboard(world.manager).dms
    # answered: 1 h, 26 h, 30 min, 2 h; still waiting: 73.5 h, 1 h, 27 h (archived); closed: 1
    assert (m.answered, m.within_target, m.late_waiting, m.closed_unanswered) == (4, 3, 2, 1)
    assert m.decided == 6 and m.within_target_share == 0.5
    # percentile_cont over [1800, 3600, 7200, 93600]
    assert m.median == 5400
    assert m.p90 == pytest.approx(67680)                    # 7200 + 0.7 × (93600 − 7200)
    assert m.median_by_responder == {world.rep.id: 48600, world.other.id: 1800,
                                     world.manager.id: 7200}
    # needing a reply now: B (since 12 Mar 10:30, over target) and C; F is archived
    assert (m.needs_reply, m.needs_reply_over_target) == (2, 1)
    assert m.oldest_wait_since == at(12, 10, 30)


def test_manager_pipeline_figures(world):
    d = dashboard(world.manager)
    p = d.pipeline
    assert p.open_count == 4
    assert p.open_value == {"USD": 120_000, "EUR": 70_000}
    assert (p.won_count, p.lost_count) == (1, 1)            # d2 was lost, then reopened
    assert p.won_value == {"USD": 100_000}
    assert p.win_rate == 0.5
    assert p.avg_days_to_close == pytest.approx(2.0)
    assert p.no_next_step == 2                              # d2 and d4 (d7 has a task)
    assert p.currency == "USD"
    sales = next(b for b in p.blocks if b.pipeline.name == "Sales")
    assert sales.cohort == 4 and sales.won_reached == 1
    assert [(r.stage.name, r.reached, r.conversion) for r in sales.funnel] == [
        ("New", 4, 1.0), ("Contacted", 4, 0.5), ("Replied", 2, 0.5), ("Qualified", 1, 1.0),
        ("Proposal", 1, 1.0)]
    assert [(r.stage.name, r.open_count, dict(r.open_value)) for r in sales.stages] == [
        ("New", 1, {"USD": 30_000}), ("Contacted", 1, {"EUR": 70_000}),
        ("Replied", 1, {"USD": 50_000}), ("Qualified", 1, {"USD": 40_000}), ("Proposal", 0, {})]
    assert (stage_row(d, "New").moves_out, stage_row(d, "New").avg_seconds) == (4, 108_000)
    assert (stage_row(d, "Contacted").moves_out, stage_row(d, "Contacted").avg_seconds) == (
        2, 86_400)
    assert stage_row(d, "Replied").avg_seconds is None
    assert p.won_by_owner == {world.rep.id: {"USD": 100_000}}


def test_manager_work_figures(world):
    w = dashboard(world.manager).work
    assert w.overdue_by_assignee == {world.rep.id: 1, world.other.id: 1, None: 1}
    assert w.done_by_assignee == {world.rep.id: 2}
    assert (w.follow_ups, w.follow_ups_replied, w.follow_up_reply_rate) == (2, 1, 0.5)


def test_manager_consent_figures(world):
    c = dashboard(world.manager).consent
    assert c.opt_outs_by_period == [0, 0, 0, 1, 1, 1, 0]
    assert c.sources == [("Asked by email", 1), ("Legal request", 1), (DM_REPLY_SOURCE, 1)]
    assert c.refusals_by_action == [("outbound DM", 1), ("outreach task", 1)]
    assert c.unknown_in_outreach == 1                       # Cara One, DMed on 10 Mar


def test_manager_leaderboard_and_sorting(world):
    d = dashboard(world.manager)
    rows = [(r.user.name, r.sent, r.replied, r.median_response, dict(r.won))
            for r in d.leaderboard]
    assert rows == [("Rae Rep", 3, 2, 48600, {"USD": 100_000}),
                    ("Mia Manager", 1, 0, 7200, {}), ("Otto Other", 2, 1, 1800, {})]
    by_response = dashboard(world.manager, sort="response", dir="asc").leaderboard
    assert [r.user.name for r in by_response] == ["Otto Other", "Mia Manager", "Rae Rep"]
    by_rate = dashboard(world.manager, sort="reply_rate").leaderboard
    assert [(r.user.name, r.reply_rate) for r in by_rate] == [
        ("Rae Rep", 2 / 3), ("Otto Other", 0.5), ("Mia Manager", 0.0)]


# The rep, in New York: their own records, their own days --------------------------------------
def test_rep_range_starts_at_new_york_midnight(world):
    d = dashboard(world.rep)
    assert (d.filters.start, d.filters.end) == (at(9, 4), at(16, 4))   # EDT is UTC-4


def test_rep_dm_figures_count_only_their_contacts_and_their_days(world):
    m = dashboard(world.rep).dms
    # E's 00:30 and 02:30 UTC messages fall on 8 March in New York: outside the range
    assert (m.sent, m.received, m.replied) == (3, 5, 2)
    assert [(p.sent, p.received, p.replied) for p in m.trend] == [
        (0, 0, 0), (2, 1, 1), (0, 2, 0), (1, 1, 1), (0, 0, 0), (0, 1, 0), (0, 0, 0)]
    assert {k: (v.sent, v.replied) for k, v in m.by_author.items()} == {world.rep.id: (3, 2)}
    assert {k: (v.sent, v.replied) for k, v in m.by_platform.items()} == {
        "instagram": (2, 1), "x": (1, 1)}
    assert (m.answered, m.within_target, m.late_waiting, m.closed_unanswered) == (2, 1, 2, 0)
    assert m.within_target_share == 0.25
    assert (m.median, m.p90) == (48600, pytest.approx(84600))  # 3600 + 0.9 × 90000
    assert m.median_by_responder == {world.rep.id: 48600}
    assert (m.needs_reply, m.needs_reply_over_target, m.oldest_wait_since) == (
        1, 1, at(12, 10, 30))


def test_rep_pipeline_work_consent_and_leaderboard_are_their_own(world):
    d = dashboard(world.rep)
    p = d.pipeline
    assert (p.open_count, dict(p.open_value)) == (3, {"USD": 120_000})
    assert (p.won_count, p.lost_count, p.win_rate) == (1, 0, 1.0)
    assert p.no_next_step == 2
    sales = next(b for b in p.blocks if b.pipeline.name == "Sales")
    assert sales.cohort == 2
    assert [r.reached for r in sales.funnel] == [2, 2, 2, 1, 1]
    assert (stage_row(d, "New").moves_out, stage_row(d, "New").avg_seconds) == (2, 86_400)
    # overdue means before the rep's today, which starts at 04:00 UTC
    assert d.work.overdue_by_assignee == {world.rep.id: 1}
    assert d.work.done_by_assignee == {world.rep.id: 2}
    assert (d.work.follow_ups, d.work.follow_ups_replied) == (2, 1)
    c = d.consent
    assert (c.opt_outs, c.sources) == (1, [("Legal request", 1)])
    assert c.refusals_by_action == [("outbound DM", 1)]
    assert c.unknown_in_outreach == 1
    assert [(r.user.name, r.sent, r.replied, dict(r.won)) for r in d.leaderboard] == [
        ("Rae Rep", 3, 2, {"USD": 100_000})]


def test_rep_cannot_widen_the_scope_with_the_owner_filter(world):
    mine = dashboard(world.rep)
    asked = dashboard(world.rep, owner=str(world.other.id))
    assert asked.scope.owner_id == world.rep.id
    assert (asked.dms.sent, asked.pipeline.open_count, asked.work.overdue) == (
        mine.dms.sent, mine.pipeline.open_count, mine.work.overdue)
    assert world.other.id not in asked.dms.by_author


def test_manager_can_look_at_one_owner(world):
    d = dashboard(world.manager, owner=str(world.other.id))
    assert (d.dms.sent, d.dms.received) == (2, 2)             # conversation C only
    assert d.pipeline.open_count == 1 and d.pipeline.lost_count == 1
    assert d.work.overdue_by_assignee == {world.other.id: 1}
    assert d.consent.refusals_by_action == [("outreach task", 1)]


def test_platform_filter_narrows_deals_and_conversations(world):
    d = dashboard(world.manager, platform="x")
    assert (d.dms.sent, d.dms.received, d.dms.replied) == (1, 3, 1)
    assert d.dms.needs_reply == 1
    assert d.pipeline.open_count == 0                          # every deal is on Instagram


def test_an_empty_range_shows_zeros_and_no_rates(world):
    d = dashboard(world.manager, preset="custom", **{"from": "2025-06-01", "to": "2025-06-30"})
    assert not d.filters.errors
    m, p = d.dms, d.pipeline
    assert (m.sent, m.received, m.replied, m.reply_rate) == (0, 0, 0, None)
    assert (m.median, m.p90, m.within_target_share) == (None, None, None)
    assert (p.won_count, p.lost_count, p.win_rate, p.avg_days_to_close) == (0, 0, None, None)
    assert all(b.cohort == 0 for b in p.blocks)
    assert (d.work.done, d.work.follow_ups, d.consent.opt_outs, d.consent.refusals) == (0, 0, 0, 0)
    # what is true now does not depend on the range
    assert p.open_count == 4 and m.needs_reply == 2 and d.work.overdue == 3


# Ranges and periods ------------------------------------------------------------------------
def periods_of(tz, **args):
    f = DashboardFilters.from_args(args, tz, NOW)
    return f, [(p.start, p.end, p.label) for p in f.periods()]


def test_presets_and_their_periods():
    f, days = periods_of("UTC", preset="7d")
    assert f.period_name == "day" and len(days) == 7
    f, weeks = periods_of("UTC", preset="30d")            # 14 Feb – 15 Mar, weeks from Monday
    assert f.period_name == "week"
    assert [w[2] for w in weeks] == ["14 Feb", "16 Feb", "23 Feb", "2 Mar", "9 Mar"]
    assert weeks[0][:2] == (at(14, 0, month=2), at(16, 0, month=2))
    assert weeks[-1][1] == at(16, 0)
    f, quarter = periods_of("UTC", preset="quarter")
    assert (f.first_day.isoformat(), f.last_day.isoformat()) == ("2026-01-01", "2026-03-15")
    f, months = periods_of("UTC", preset="custom", **{"from": "2025-01-15", "to": "2026-03-15"})
    assert f.period_name == "month" and months[0][2] == "Jan 2025" and len(months) == 15
    assert months[1][0] == datetime(2025, 2, 1)


def test_days_follow_the_users_clock_across_a_daylight_saving_change():
    # New York moved its clocks forward on Sunday 8 March 2026: that day has 23 hours.
    f, days = periods_of(NEW_YORK, preset="custom", **{"from": "2026-03-07", "to": "2026-03-09"})
    assert days == [(at(7, 5), at(8, 5), "Sat 7"), (at(8, 5), at(9, 4), "Sun 8"),
                    (at(9, 4), at(10, 4), "Mon 9")]
    assert (f.start, f.end) == (at(7, 5), at(10, 4))


@pytest.mark.parametrize("args, field, message", [
    ({"preset": "custom", "from": "2026-02-30", "to": "2026-03-01"}, "from",
     "From must be a date (YYYY-MM-DD)."),
    ({"preset": "custom", "from": "2026-03-01"}, "to", "To: choose a date."),
    ({"preset": "custom", "from": "2026-03-05", "to": "2026-03-01"}, "to",
     "To must be on or after From."),
    ({"preset": "custom", "from": "2020-01-01", "to": "2026-03-01"}, "to",
     "Choose a range of at most 731 days."),
    ({"preset": "yesterday"}, "preset", "Choose a date range from the list."),
])
def test_bad_ranges_name_the_field_and_fall_back_to_30_days(args, field, message):
    f = DashboardFilters.from_args(args, "UTC", NOW)
    assert f.errors == {field: message}
    assert (f.first_day.isoformat(), f.last_day.isoformat()) == ("2026-02-14", "2026-03-15")


def test_an_owners_contacts_are_scoped_by_one_clause(world):
    """The policy's clause and the chosen owner said as the one clause they amount to
    (crm.policy.owner_scope): said as both, PostgreSQL multiplied their shares and planned a
    rep's dashboard for a tenth of their contacts. Out of the viewer's sight: nothing."""
    def where(user, owner):
        return [str(w.compile(compile_kwargs={"literal_binds": True}))
                for w in dashboard(user, owner=str(owner.id)).scope.contact_where()]

    assert where(world.rep, world.rep) == [f"contacts.owner_id = {world.rep.id}"]
    assert where(world.manager, world.other) == [f"contacts.owner_id = {world.other.id}"]
    assert policy.owner_scope(world.rep, world.other.id).compare(false())
