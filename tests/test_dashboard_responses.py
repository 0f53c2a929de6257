"""The dashboard's first-response figures (crm.reports.response_rollup) are what the
response times say, in every time zone: counts, within target and the exact median / 90th
percentile per responder; and the counts they read (crm.contacts.dm_counts) follow what the
services change."""
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, text, update

from crm.contacts import dm_counts, owner_copies
from crm.contacts.models import Contact
from crm.conversations import services as dms
from crm.conversations.models import Conversation, ResponseTime
from crm.extensions import db as _db
from crm.reports.filters import DashboardFilters
from crm.reports.response_rollup import (LEVELS, TEAM as EVERYONE, counted_days, interpolate,
                                         response_figures)
from crm.reports.scope import Scope
from tests import factories

NOW = datetime(2026, 3, 20, 12, 0)
ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "America/New_York"]
EDGES = [0, 1, 59, 60, 299, 300, 1799, 1800, 3599, 3600, 3601, 7199, 7200, 86399, 86400,
         86401, 604799, 604800, 604801, 900000]


def oracle(scope, target):
    """Every figure from the response times one by one."""
    rows = _db.session.execute(
        select(ResponseTime.burst_started_at, ResponseTime.answered_at,
               ResponseTime.response_seconds, ResponseTime.responder_id,
               Conversation.platform, Contact.owner_id)
        .join(Conversation, Conversation.id == ResponseTime.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)).all()
    bursts = answered = within = 0
    groups: dict = {}
    for started, answered_at, seconds, responder, platform, owner in rows:
        if not scope.start <= started < scope.end:
            continue
        if scope.owner_id is not None and owner != scope.owner_id:
            continue
        if scope.platform and platform != scope.platform:
            continue
        bursts += 1
        answered += answered_at is not None
        if seconds is not None:
            within += seconds <= target
            groups.setdefault(responder, []).append(seconds)
            groups.setdefault(EVERYONE, []).append(seconds)
    pct = {}
    for group, values in groups.items():
        values.sort()
        n = len(values)
        pct[group] = tuple(interpolate(p, n, {i + 1: v for i, v in enumerate(values)})
                           for p in LEVELS)
    return bursts, answered, within, pct


@pytest.fixture
def team(db, manager, rep, other_rep):
    convs = []
    for i, owner in enumerate((rep.id, other_rep.id, None)):
        contact = factories.ContactFactory(owner_id=owner)
        for platform in ("instagram", "tiktok"):
            convs.append(factories.ConversationFactory(contact=contact, platform=platform,
                                                       external_thread_id=f"r{i}{platform}"))
    return manager, rep, other_rep, convs


def add_responses(rng, convs, responders, count):
    for i in range(count):
        value = rng.choice(EDGES) if i % 3 == 0 else rng.randint(0, 400_000)
        answered = rng.random() > 0.15
        # Around UTC midnight and local midnights at :30 / :45 offsets.
        started = NOW - timedelta(days=rng.randint(0, 40), hours=rng.choice([0, 5, 6, 18, 23]),
                                  minutes=rng.choice([0, 14, 15, 16, 29, 30, 31, 59]))
        _db.session.add(ResponseTime(
            conversation_id=rng.choice(convs).id, burst_started_at=started,
            answered_at=started if answered else None,
            response_seconds=value if answered else None,
            responder_id=rng.choice(responders) if answered else None))
    _db.session.flush()
    dm_counts.recount()   # written past the services
    _db.session.commit()


def assert_exact(manager, rep, other_rep, zones=ZONES):
    views = [(manager, {}), (manager, {"owner": str(rep.id)}), (manager, {"platform": "tiktok"}),
             (rep, {}), (other_rep, {"platform": "instagram"})]
    for viewer, args in views:
        for tz in zones:
            # A single local day too: within one or two UTC days, never a whole one.
            for preset in ("7d", "30d", {"preset": "custom", "from": "2026-03-18",
                                         "to": "2026-03-18"}):
                preset = preset if isinstance(preset, dict) else {"preset": preset}
                for target in (3600, 86400, 30 * 3600, 10 * 86400):
                    f = DashboardFilters.from_args({**preset, **args}, tz, NOW)
                    scope = Scope.for_view(viewer, f)
                    got = response_figures(scope, target)
                    assert got == oracle(scope, target), (viewer.name, tz, preset, args, target)
    assert dm_counts.stored_responses() == dm_counts.recounted_responses()


@pytest.mark.parametrize("seed", [1, 2])
def test_counts_and_percentiles_stay_exact_after_every_kind_of_change(team, seed):
    # The changes below are made past the services, and counted again as
    # `flask reports rebuild-rollup` does; the services' own changes are followed in
    # tests/test_dashboard_rollup.py.
    manager, rep, other_rep, convs = team
    rng = random.Random(seed)
    responders = [rep.id, other_rep.id, manager.id, None]
    add_responses(rng, convs, responders, 150)
    assert_exact(manager, rep, other_rep)
    # More responses, answers and corrections, a deletion.
    add_responses(rng, convs, responders, 30)
    first = _db.session.scalars(select(ResponseTime).order_by(ResponseTime.id).limit(5)).all()
    first[0].response_seconds, first[0].answered_at = 42, first[0].burst_started_at
    first[1].burst_started_at -= timedelta(days=3)
    first[2].responder_id = other_rep.id
    _db.session.delete(first[3])
    first[4].conversation_id = convs[-1].id
    _db.session.flush()
    dm_counts.recount()
    _db.session.commit()
    assert_exact(manager, rep, other_rep, zones=ZONES[:3])
    # A reassignment, a conversation moved to another platform, a bulk update.
    _db.session.execute(update(Contact).where(Contact.id == convs[0].contact_id)
                        .values(owner_id=other_rep.id))
    _db.session.execute(update(Conversation).where(Conversation.id == convs[2].id)
                        .values(platform="tiktok"))
    _db.session.execute(update(Conversation).where(Conversation.id == convs[3].id)
                        .values(contact_id=convs[5].contact_id))   # to an unowned contact
    _db.session.execute(update(ResponseTime).where(ResponseTime.id % 4 == 0)
                        .values(response_seconds=ResponseTime.response_seconds + 3600))
    _db.session.execute(delete(ResponseTime).where(ResponseTime.id % 7 == 0))
    owner_copies.recount()   # all of it around the app: recounted as rebuild-rollup does
    dm_counts.recount()
    _db.session.commit()
    assert_exact(manager, rep, other_rep, zones=ZONES[:3])


def test_an_answer_adds_its_difference(team):
    """Answering a burst takes it from the unanswered bucket and adds it to its bucket of
    response time, under its owner and platform and everyone's slices; nothing else moves."""
    manager, rep, other_rep, convs = team
    contact = _db.session.get(Contact, convs[0].contact_id)
    asked = NOW - timedelta(minutes=10)
    dms.log_message(rep, contact, platform="instagram", direction="in", body="Hi?", sent_at=asked)
    _db.session.flush()
    before = dm_counts.stored_responses()
    dms.log_message(rep, contact, platform="instagram", direction="out", body="Hello!",
                    sent_at=asked + timedelta(minutes=5))
    _db.session.flush()
    after = dm_counts.stored_responses()
    day = asked.strftime("%Y-%m-%d")
    changed = {k: (after.get(k, (0, 0))[0] - before.get(k, (0, 0))[0],
                   after.get(k, (0, 0))[1] - before.get(k, (0, 0))[1])
               for k in before.keys() | after.keys()
               if after.get(k, (0, 0)) != before.get(k, (0, 0))}
    assert changed == {
        **{(day, o, p, 0, dm_counts.UNANSWERED): (-1, 0)
           for o in (rep.id, dm_counts.EVERYONE) for p in ("instagram", "")},
        **{(day, o, p, rep.id, dm_counts.bucket_of(300)): (1, 1)
           for o in (rep.id, dm_counts.EVERYONE) for p in ("instagram", "")}}
    assert after == dm_counts.recounted_responses()


def test_the_bucket_sql_is_the_python_bucket(team):
    values = [None, -5, 0, 1, 59, 60, 61, 1799, 1800, 1801, 2700, 2701, 86399, 86400, 86401,
              90000, 604799, 604800, 604801, 10 ** 7]
    for v in values:
        got = _db.session.execute(
            text(f"SELECT {dm_counts.bucket_sql('CAST(:v AS INTEGER)')}"), {"v": v}).scalar()
        assert got == dm_counts.bucket_of(v), v


def test_a_partial_day_is_counted_whole_when_most_of_it_is_in_the_range():
    """Counted days (crm.reports.response_rollup.counted_days): the hours read one by one at
    the edges are the fewer of the day's hours in and out of the range."""
    day = timedelta(days=1)
    midnight = datetime(2026, 3, 1)
    # Thirty local days at UTC+1: an hour before the first UTC day, 23 hours of the last.
    start, end = midnight - timedelta(hours=1), midnight + 29 * day + timedelta(hours=23)
    assert counted_days(start, end) == (midnight, midnight + 30 * day)
    # At UTC-5: 19 hours of the first UTC day are in the range, 5 of the last.
    start, end = midnight + timedelta(hours=5), midnight + 30 * day + timedelta(hours=5)
    assert counted_days(start, end) == (midnight, midnight + 30 * day)
    # UTC days: nothing at the edges.
    assert counted_days(midnight, midnight + 7 * day) == (midnight, midnight + 7 * day)
    # One local day inside one UTC day: counted whole when most of it, else read by rows.
    assert counted_days(midnight + timedelta(hours=1), midnight + day) == (midnight,
                                                                          midnight + day)
    assert counted_days(midnight + timedelta(hours=13), midnight + day) == (midnight + day,
                                                                           midnight + day)
