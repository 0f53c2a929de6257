"""Opt-outs per period and per source, counted in one pass over the range's consent events:
compared with an event-by-event count, for a manager and a rep, with more sources than the
dashboard lists (the rest are summed as "Other sources") and sources tied on their count."""
import random
from datetime import datetime, timedelta

import pytest

from crm.contacts.models import ConsentEvent
from crm.reports.consent_figures import DM_REPLY_SOURCE, TOP_SOURCES
from crm.reports.dashboard import build_dashboard
from crm.reports.filters import DashboardFilters
from tests import factories

NOW = datetime(2026, 3, 20, 12, 0)
NEW_YORK = "America/New_York"
SOURCES = ["Asked by email", "Legal request", "Web form", "Phone call", "Unsubscribe link",
           "Event list", "Import", "Zapier", ""]


def expected(events, contacts_owner, periods, start, end, owner):
    """(count per period, [(source, count)] largest first then by name, "Other" summed)."""
    per_period = [0] * len(periods)
    counts: dict = {}
    for contact_id, at, from_status, to_status, from_dnc, to_dnc, source, evidence in events:
        if not start <= at < end:
            continue
        if owner is not None and contacts_owner[contact_id] != owner:
            continue
        if not ((to_status == "opted_out" and from_status != "opted_out")
                or (to_dnc and not from_dnc)):
            continue
        label = DM_REPLY_SOURCE if evidence else (source or "Not recorded")
        counts[label] = counts.get(label, 0) + 1
        for i, p in enumerate(periods):
            if p.start <= at < p.end:
                per_period[i] += 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    sources = ranked[:TOP_SOURCES]
    if len(ranked) > TOP_SOURCES:
        sources.append(("Other sources", sum(n for _, n in ranked[TOP_SOURCES:])))
    return per_period, sources


@pytest.fixture
def events(db, manager, rep, other_rep):
    rep.timezone = NEW_YORK
    rng = random.Random(7)
    contacts = [factories.ContactFactory(owner_id=rng.choice([rep.id, other_rep.id, None]))
                for _ in range(12)]
    db.session.flush()
    rows = []
    for i in range(160):
        contact = rng.choice(contacts)
        at = NOW - timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 1439))
        kind = rng.random()
        if kind < 0.45:
            change = ("unknown", "opted_out", False, False)
        elif kind < 0.65:
            change = ("opted_in", "unknown", False, True)          # do-not-contact
        elif kind < 0.8:
            change = ("opted_out", "opted_out", False, False)      # not a new opt-out
        else:
            change = ("unknown", "opted_in", False, False)
        # the first sources come up more often, so some tie and some fall under "Other"
        source = SOURCES[min(int(rng.expovariate(0.35)), len(SOURCES) - 1)]
        evidence = rng.randint(1, 10_000) if rng.random() < 0.1 else None
        row = (contact.id, at, *change, source, evidence)
        rows.append(row)
        db.session.add(ConsentEvent(contact_id=row[0], at=at, from_status=change[0],
                                    to_status=change[1], from_dnc=change[2], to_dnc=change[3],
                                    source=source, evidence_message_id=evidence))
    db.session.commit()
    return rows, {c.id: c.owner_id for c in contacts}


@pytest.mark.parametrize("preset", ["7d", "30d", "quarter"])
@pytest.mark.parametrize("who", ["manager", "rep", "manager_on_rep"])
def test_opt_outs_per_period_and_source_match_a_count_of_the_events(
        events, manager, rep, preset, who):
    rows, owners = events
    viewer = rep if who == "rep" else manager
    args = {"preset": preset, **({"owner": str(rep.id)} if who == "manager_on_rep" else {})}
    filters = DashboardFilters.from_args(args, viewer.timezone, NOW)
    c = build_dashboard(viewer, filters, NOW).consent
    owner = None if who == "manager" else rep.id
    per_period, sources = expected(rows, owners, filters.periods(), filters.start, filters.end,
                                   owner)
    assert c.opt_outs_by_period == per_period
    assert c.sources == sources
    assert c.opt_outs == sum(per_period) == sum(n for _, n in sources)


def test_more_sources_than_listed_are_summed_and_ties_go_by_name(db, events, manager):
    rows, owners = events
    filters = DashboardFilters.from_args({"preset": "quarter"}, manager.timezone, NOW)
    c = build_dashboard(manager, filters, NOW).consent
    web_form = dict(c.sources)["Web form"]
    contact_id = next(iter(owners))
    for i in range(web_form):            # as many as "Web form": a tie, listed by name
        at = NOW - timedelta(days=1, minutes=i)
        rows.append((contact_id, at, "unknown", "opted_out", False, False, "Beta list", None))
        db.session.add(ConsentEvent(contact_id=contact_id, at=at, from_status="unknown",
                                    to_status="opted_out", source="Beta list"))
    db.session.commit()
    c = build_dashboard(manager, filters, NOW).consent
    assert c.sources == expected(rows, owners, filters.periods(), filters.start, filters.end,
                                 None)[1]
    assert len(c.sources) == TOP_SOURCES + 1 and c.sources[-1][0] == "Other sources"
    names = [name for name, _ in c.sources]
    assert names.index("Beta list") + 1 == names.index("Web form")
