"""The DM counts behind the dashboard stay exactly what the messages say, whatever service
wrote them, in every time zone (including :30 and :45 offsets)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, update

from crm.contacts import dm_counts, services as contacts
from crm.contacts.models import Contact
from crm.conversations import ingest
from crm.conversations import services as dms
from crm.conversations.models import Conversation, Message
from crm.extensions import db as _db
from crm.core.cache import generations
from crm.reports.dm_figures import sent_figures
from crm.reports.filters import DashboardFilters
from crm.reports.models import DMHourCount
from crm.reports.scope import Scope
from crm.settings import services as settings
from crm.settings.models import Setting
from tests import factories
from tests.test_imports_support import (ME, import_storage,  # noqa: F401 (fixture)
                                        ig_export, ig_message, import_dm)

NOW = datetime(2026, 3, 20, 12, 0)
ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns", "America/New_York"]


def oracle(viewer, filters):
    """The figures counted one message at a time, straight from the messages."""
    scope = Scope.for_view(viewer, filters)
    periods = filters.periods()
    trend = [[0, 0, 0] for _ in periods]          # sent, replied, received
    by_author, by_platform, by_template = {}, {}, {}
    rows = _db.session.execute(
        select(Message.sent_at, Message.direction, Message.author_id, Message.template_id,
               Message.replied_at, Conversation.platform, Contact.owner_id)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .where(Message.deleted_at.is_(None))).all()    # deleted on the platform: not counted
    for sent_at, direction, author, template, replied_at, platform, owner in rows:
        if not scope.start <= sent_at < scope.end:
            continue
        if scope.owner_id is not None and owner != scope.owner_id:
            continue
        if scope.platform and platform != scope.platform:
            continue
        i = next(n for n, p in enumerate(periods) if p.start <= sent_at < p.end)
        if direction == "in":
            trend[i][2] += 1
            continue
        got = int(replied_at is not None)
        trend[i][0] += 1
        trend[i][1] += got
        for table, key in ((by_author, author), (by_platform, platform), (by_template, template)):
            if table is by_template and key is None:
                continue
            entry = table.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += got
    return trend, by_author, by_platform, by_template


def percentile_cont(rows, everyone, levels, interpolate) -> dict:
    """{everyone or responder: (median, p90)} of (responder, seconds) rows, as PostgreSQL's
    percentile_cont gives them."""
    groups: dict = {}
    for responder, seconds in rows:
        groups.setdefault(responder, []).append(seconds)
        groups.setdefault(everyone, []).append(seconds)
    return {group: tuple(interpolate(p, len(values), dict(enumerate(sorted(values), start=1)))
                         for p in levels) for group, values in groups.items()}


def figures(viewer, filters):
    points, by_author, by_platform, by_template = sent_figures(
        Scope.for_view(viewer, filters), filters.periods())
    flat = lambda table: {k: [v.sent, v.replied] for k, v in table.items()}  # noqa: E731
    return ([[p.sent, p.replied, p.received] for p in points], flat(by_author),
            flat(by_platform), flat(by_template))


def assert_exact(viewers, zones=ZONES, presets=("7d", "30d", "90d")):
    """Hours and response counts equal a recount; every view's figures equal the oracle's."""
    assert_counted()
    for viewer, args in viewers:
        for tz in zones:
            for preset in presets:
                f = DashboardFilters.from_args({"preset": preset, **args}, tz, NOW)
                assert figures(viewer, f) == oracle(viewer, f), (viewer.name, tz, preset, args)


def assert_counted():
    assert dm_counts.stored_hours() == dm_counts.recounted_hours()
    assert dm_counts.stored_totals() == dm_counts.recounted_totals()
    assert dm_counts.stored_responses() == dm_counts.recounted_responses()


@pytest.fixture
def team(db, manager, rep, other_rep):
    template = factories.DMTemplateFactory()
    mine = factories.ContactFactory(owner_id=rep.id)
    theirs = factories.ContactFactory(owner_id=other_rep.id)
    nobody = factories.ContactFactory(owner_id=None)
    return manager, rep, other_rep, mine, theirs, nobody, template


def views(manager, rep, other_rep):
    return [(manager, {}), (manager, {"owner": str(rep.id)}), (manager, {"platform": "tiktok"}),
            (rep, {}), (other_rep, {"platform": "instagram"})]


def log(actor, contact, direction, sent_at, platform="instagram", **kw):
    return dms.log_message(actor, contact, platform=platform, direction=direction,
                           body=f"{direction} at {sent_at:%H:%M}", sent_at=sent_at, **kw)


def test_counts_equal_a_recount_after_every_kind_of_change(team):
    manager, rep, other_rep, mine, theirs, nobody, _ = team
    everyone = views(manager, rep, other_rep)
    # Around midnight UTC and around midnight in India (18:30 UTC) and Nepal (18:15 UTC).
    log(rep, mine, "out", NOW.replace(hour=18, minute=29) - timedelta(days=1),
        template_id=team[-1].id)
    out = log(rep, mine, "out", NOW.replace(hour=18, minute=31) - timedelta(days=2))
    log(other_rep, theirs, "out", NOW.replace(hour=23, minute=59) - timedelta(days=3),
        platform="tiktok")
    log(manager, nobody, "out", NOW.replace(hour=0, minute=0) - timedelta(days=3),
        template_id=team[-1].id)
    log(rep, mine, "out", NOW.replace(hour=2, minute=44) - timedelta(days=8))
    log(rep, theirs, "in", NOW.replace(hour=18, minute=14) - timedelta(days=1), platform="tiktok")
    _db.session.flush()
    assert_exact(everyone)

    # A reply sets replied_at on the earlier outbound DM (written by the reply state).
    log(rep, mine, "in", NOW.replace(hour=18, minute=40) - timedelta(days=2))
    _db.session.flush()
    _db.session.refresh(out)
    assert out.replied_at is not None
    assert_exact(everyone)

    # A backdated DM far outside the built days, and one moved across midnight.
    old = log(rep, mine, "out", NOW - timedelta(days=80))
    dms.edit_message(rep, old, body=old.body, direction="out",
                     sent_at=NOW.replace(hour=18, minute=20) - timedelta(days=5))
    _db.session.flush()
    assert_exact(everyone)

    # A deleted DM.
    dms.delete_message(rep, out)
    _db.session.flush()
    assert_exact(everyone)

    # A DM its sender deleted on the platform: kept, marked, no longer counted.
    gone = log(rep, mine, "in", NOW.replace(hour=9, minute=5) - timedelta(days=4))
    gone.external_id = "mid.unsent"
    _db.session.flush()
    assert_exact(everyone)
    assert ingest.mark_deleted(gone.conversation, "mid.unsent") == ingest.MARKED
    _db.session.flush()
    assert _db.session.get(Message, gone.id).deleted_at is not None
    assert_exact(everyone)

    # A contact given to another owner (its DMs move with it), and one left unassigned.
    contacts.set_owner(manager, mine, other_rep.id)
    contacts.set_owner(manager, theirs, None)
    _db.session.flush()
    assert_exact(everyone)

    # A conversation moved to another platform and a bulk UPDATE, past the services: seen
    # once the counts are recounted (`flask reports rebuild-rollup`).
    conv = _db.session.scalars(select(Conversation).where(Conversation.contact_id == nobody.id)).first()
    conv.platform = "tiktok"
    _db.session.flush()
    _db.session.execute(update(Message).where(Message.direction == "out")
                        .values(replied_at=NOW - timedelta(days=1)))
    assert dm_counts.stored_hours() != dm_counts.recounted_hours()
    dm_counts.recount()
    assert_exact(everyone)


def test_a_dm_import_is_counted(auth, rep, manager, tmp_path):
    people = ["Renée Dubois", ME]
    base = int((NOW - timedelta(days=3)).replace(tzinfo=timezone.utc).timestamp() * 1000)
    msgs = [ig_message(people[i % 2], base + i * 1_800_000, f"message {i}") for i in range(12)]
    client = auth.login(rep)
    f = DashboardFilters.from_args({"preset": "7d"}, "Asia/Kolkata", NOW)
    before = figures(rep, f)
    import_dm(client, ig_export(tmp_path / "v1", {"renee_1": ("Renée Dubois", people, msgs)}),
              me=ME)
    after = figures(rep, f)
    assert after == oracle(rep, f)
    assert sum(p[0] for p in after[0]) == sum(p[0] for p in before[0]) + 6
    assert_exact([(rep, {}), (manager, {})], zones=["Asia/Kolkata", "UTC"], presets=("7d",))


@pytest.mark.parametrize("bulk", [False, True], ids=["row by row", "bulk load"])
def test_an_import_leaves_the_counts_current(app, auth, rep, manager, tmp_path, monkeypatch,
                                             bulk):
    # A bulk load counts its conversations in grouped statements; either way the import's
    # transaction leaves the counts what the messages say.
    if bulk:
        monkeypatch.setitem(app.config, "IMPORT_BULK_MIN_ROWS", 1)
    people = ["Ana Ortiz", ME]
    base = int((NOW - timedelta(days=2)).replace(tzinfo=timezone.utc).timestamp() * 1000)
    msgs = [ig_message(people[i % 2], base + i * 3_600_000, f"note {i}") for i in range(30)]
    f = DashboardFilters.from_args({"preset": "7d"}, "UTC", NOW)
    figures(rep, f)
    versions = generations(("messages", "response_times"))
    import_dm(auth.login(rep), ig_export(tmp_path / "v1", {"ana_1": ("Ana Ortiz", people, msgs)}),
              me=ME)
    # The figure cache sees the load (its commit renews what it wrote).
    after = generations(("messages", "response_times"))
    assert all(a != b for a, b in zip(after, versions))
    assert_counted()
    assert dm_counts.stored_responses()
    assert figures(rep, f) == oracle(rep, f)
    # A newer export: the same thread with more messages (added to an existing conversation,
    # which is replayed) and a new thread, read in two zones, one of them at a :45 offset.
    g = DashboardFilters.from_args({"preset": "7d"}, "Asia/Kathmandu", NOW)
    figures(rep, g)
    more = msgs + [ig_message(people[i % 2], base + i * 3_600_000 + 1_200_000, f"later {i}")
                   for i in range(30, 41)]
    bo = ["Bo Lind", ME]
    bo_msgs = [ig_message(bo[i % 3 == 2], base + i * 2_700_000, f"bo {i}") for i in range(25)]
    import_dm(auth.login(rep), ig_export(tmp_path / "v2", {"ana_1": ("Ana Ortiz", people, more),
                                                          "bo_1": ("Bo Lind", bo, bo_msgs)}),
              me=ME)
    assert_counted()
    assert figures(rep, f) == oracle(rep, f) and figures(rep, g) == oracle(rep, g)
    assert figures(manager, g) == oracle(manager, g)
    # A DM logged after the import is counted like any other.
    contact = _db.session.scalars(select(Contact).where(Contact.name == "Ana Ortiz")).one()
    dms.log_message(rep, contact, platform="instagram", direction="in", body="again",
                    sent_at=NOW - timedelta(minutes=5))
    _db.session.commit()
    assert_counted()


def test_a_change_shows_on_the_next_load(auth, team):
    manager, rep, *_ , mine, theirs, nobody, _template = team
    client = auth.login(rep)
    path = "/dashboard/export/summary.csv?preset=7d"

    def sent():
        rows = client.get(path).get_data(as_text=True).splitlines()
        return int(next(r for r in rows if r.startswith("DMs sent")).split(",")[1])

    first = sent()
    log(rep, mine, "out", datetime.utcnow() - timedelta(minutes=5))
    _db.session.commit()
    assert sent() == first + 1
    message = _db.session.scalars(select(Message).order_by(Message.id.desc())).first()
    dms.delete_message(rep, message)
    _db.session.commit()
    assert sent() == first


def test_rebuild_rollup_command(app, team):
    manager, rep, other_rep, mine, theirs, *_ = team
    log(rep, mine, "out", NOW - timedelta(days=1))
    log(rep, theirs, "in", NOW - timedelta(days=2), platform="tiktok")
    _db.session.commit()
    _db.session.execute(update(DMHourCount).values(messages=99))      # damaged by hand
    _db.session.execute(update(Contact).values(last_outbound_at=None))
    _db.session.commit()
    tables = ("messages", "response_times", "conversations", "contacts", "tasks")
    versions = generations(tables)
    assert dm_counts.stored_hours() != dm_counts.recounted_hours()
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-rollup"])
    assert result.exit_code == 0, result.output
    assert "2 hours of DMs counted" in result.output
    assert_counted()
    assert _db.session.get(Contact, mine.id).last_outbound_at == NOW - timedelta(days=1)
    assert all(a != b for a, b in zip(generations(tables), versions))


def test_rebuild_rollup_forgets_settings_changed_by_hand(app, remembering):
    """What is remembered beside the figures (the settings) is read afresh after it too."""
    assert settings.get("response_target_hours") == 24          # remembered from here on
    _db.session.commit()
    _db.session.connection().execute(insert(Setting.__table__),   # by hand, past the app
                                     {"key": "response_target_hours", "value": 6})
    _db.session.commit()
    _db.session.remove()         # the next request's session
    assert settings.get("response_target_hours") == 24          # not seen: by hand
    _db.session.commit()
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-rollup"])
    assert result.exit_code == 0, result.output
    _db.session.remove()         # the next request's session
    assert settings.get("response_target_hours") == 6


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_response_times_are_exact_percentiles(team, seed):
    """The two-pass binned percentiles equal percentile_cont over every response."""
    import random

    from crm.conversations.models import ResponseTime
    from crm.reports.response_rollup import LEVELS, TEAM as EVERYONE, interpolate, response_figures

    manager, rep, other_rep, mine, theirs, *_ = team
    rng = random.Random(seed)
    convs = [factories.ConversationFactory(contact=c, external_thread_id=f"t{seed}{i}")
             for i, c in enumerate((mine, theirs))]
    edges = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 3599, 3600, 86399, 86400, 86401, 123456]
    for i in range(rng.randint(40, 120)):
        value = rng.choice(edges) if i % 3 == 0 else rng.randint(0, 300_000)
        answered = rng.random() > 0.15
        _db.session.add(ResponseTime(
            conversation_id=rng.choice(convs).id,
            burst_started_at=NOW - timedelta(days=rng.randint(0, 9), minutes=rng.randint(0, 900)),
            answered_at=NOW if answered else None, response_seconds=value if answered else None,
            responder_id=rng.choice([rep.id, other_rep.id, manager.id, None]) if answered else None))
    _db.session.flush()
    dm_counts.recount()   # written past the services
    for viewer in (manager, rep):
        scope = Scope.for_view(viewer, DashboardFilters.from_args({"preset": "7d"}, "UTC", NOW))
        bursts, answered, within, pct = response_figures(scope, 86400)
        rows = _db.session.execute(select(ResponseTime.response_seconds)
                                   .where(*scope.response_where())).scalars().all()
        assert bursts == len(rows) > 0
        assert answered == sum(v is not None for v in rows)
        assert within == sum(v is not None and v <= 86400 for v in rows)
        expected = percentile_cont(_db.session.execute(
            select(ResponseTime.responder_id, ResponseTime.response_seconds)
            .where(*scope.response_where(), ResponseTime.response_seconds.is_not(None))).all(),
            EVERYONE, LEVELS, interpolate)
        assert pct == expected and EVERYONE in pct
