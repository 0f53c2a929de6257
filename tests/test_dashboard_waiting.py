"""Conversations waiting on you now (the inbox's rule: not on archived contacts), those over
the target and the oldest wait, compared with a conversation-by-conversation count for
everyone's view, one owner's, one platform's, one owner's on one platform and a rep's."""
import random
from datetime import datetime, timedelta

import pytest

from crm.conversations.models import Conversation
from crm.reports.dashboard import build_dashboard
from crm.reports.filters import DashboardFilters
from tests import factories

NOW = datetime(2026, 3, 20, 12, 0)
TARGET = 24 * 3600


@pytest.fixture
def conversations(db, manager, rep, other_rep):
    rng = random.Random(11)
    contacts = [factories.ContactFactory(
        owner_id=rng.choice([rep.id, other_rep.id, None]),
        archived_at=NOW - timedelta(days=3) if rng.random() < 0.25 else None)
        for _ in range(30)]
    db.session.flush()
    rows = []
    for i in range(120):
        contact = rng.choice(contacts)
        state = rng.choice(["needs_reply", "needs_reply", "awaiting_reply", "closed"])
        since = NOW - timedelta(hours=rng.randint(1, 24 * 60)) if state == "needs_reply" else None
        platform = rng.choice(["instagram", "x", "tiktok"])
        db.session.add(Conversation(contact_id=contact.id, contact_owner_id=contact.owner_id,
                                    platform=platform, state=state,
                                    waiting_since=since, external_thread_id=f"t{i}",
                                    message_count=0))
        rows.append((contact.owner_id, contact.archived_at, platform, state, since))
    db.session.commit()
    return rows


def expected(rows, owner, platform, everyone, unassigned=False):
    waits = [since for o, archived, p, state, since in rows
             if state == "needs_reply" and archived is None
             and (everyone or o == owner or (unassigned and o is None))
             and (platform is None or p == platform)]
    late = sum(1 for since in waits if since < NOW - timedelta(seconds=TARGET))
    return len(waits), late, min(waits) if waits else None


@pytest.mark.parametrize("who,platform", [("manager", None), ("manager", "x"),
                                          ("manager_on_rep", None), ("manager_on_rep", "x"),
                                          ("rep", None), ("rep", "tiktok")])
def test_waiting_now_matches_a_count_of_the_conversations(
        conversations, manager, rep, who, platform):
    viewer = rep if who == "rep" else manager
    args = {"preset": "30d", **({"owner": str(rep.id)} if who == "manager_on_rep" else {}),
            **({"platform": platform} if platform else {})}
    filters = DashboardFilters.from_args(args, viewer.timezone, NOW)
    m = build_dashboard(viewer, filters, NOW).dms
    # A rep's "waiting on you" counts the unassigned contacts' conversations too, as the
    # navigation's badge and Home do; a manager's choice of owner is that owner's contacts.
    assert (m.needs_reply, m.needs_reply_over_target, m.oldest_wait_since) == expected(
        conversations, rep.id, platform, everyone=who == "manager", unassigned=who == "rep")
