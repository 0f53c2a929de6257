"""The needs-reply inbox and the navigation badge."""
from datetime import timedelta

import pytest

from crm.conversations import queries, services
from crm.conversations.queries import InboxFilters
from crm.core.timeutil import utcnow
from crm.settings import services as settings
from tests import factories


def waiting(owner, hours, platform="instagram", name=None, actor=None):
    """A contact who wrote to us `hours` ago and has not had an answer."""
    contact = factories.ContactFactory(owner_id=owner.id if owner else None,
                                       name=name or f"Waited {hours} h")
    services.log_message(actor or owner, contact, platform=platform, direction="in",
                         body=f"ping after {hours}", sent_at=utcnow() - timedelta(hours=hours))
    return contact


def names(page):
    return [c.contact.name for c in page.rows]


def test_longest_wait_first_with_the_target_highlighted(auth, rep, db):
    for hours in (3, 50, 25, 1):
        waiting(rep, hours)
    answered = waiting(rep, 100)
    services.log_message(rep, answered, platform="instagram", direction="out", body="done")
    db.session.commit()
    html = auth.login(rep).get("/inbox").get_data(as_text=True)
    order = [html.index(f"Waited {h} h") for h in (50, 25, 3, 1)]
    assert order == sorted(order)
    assert "Waited 100 h" not in html
    assert "4 conversations waiting on you" in html
    assert "2 over the 24 h target" in html
    assert html.count('class="is-over"') == 2


def test_the_target_is_configurable(auth, rep, db):
    waiting(rep, 5)
    settings.put("response_target_hours", 4)
    db.session.commit()
    html = auth.login(rep).get("/inbox").get_data(as_text=True)
    assert "1 over the 4 h target" in html and "Over 4 h" in html


def test_filters_by_owner_and_platform(auth, rep, other_rep, manager, db):
    waiting(rep, 2, name="Mine on X", platform="x")
    waiting(rep, 3, name="Mine on Instagram")
    waiting(other_rep, 4, name="Otto's")
    waiting(None, 5, name="Nobody's", actor=rep)
    db.session.commit()
    page = queries.inbox_page(manager, InboxFilters(owner="me"))
    assert names(page) == []
    assert names(queries.inbox_page(manager, InboxFilters(owner=str(rep.id)))) == [
        "Mine on Instagram", "Mine on X"]
    assert names(queries.inbox_page(manager, InboxFilters(owner="none"))) == ["Nobody's"]
    assert names(queries.inbox_page(manager, InboxFilters(platform="x"))) == ["Mine on X"]
    # A rep sees their own and the unassigned, never another rep's.
    assert names(queries.inbox_page(rep, InboxFilters())) == [
        "Nobody's", "Mine on Instagram", "Mine on X"]
    html = auth.login(rep).get("/inbox?platform=x", headers={
        "HX-Request": "true", "HX-Target": "inbox-results"}).get_data(as_text=True)
    assert "<html" not in html and "Mine on X" in html and "Mine on Instagram" not in html


def test_keyset_pages_do_not_skip_or_repeat(rep, db):
    for hours in range(1, 8):
        waiting(rep, hours)
    seen, after = [], None
    while True:
        page = queries.inbox_page(rep, InboxFilters(), after, limit=3)
        seen += names(page)
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert seen == [f"Waited {h} h" for h in range(7, 0, -1)]


def test_awaiting_view_lists_where_we_wrote_last(auth, rep, db):
    c = factories.ContactFactory(owner_id=rep.id, name="Pitched")
    services.log_message(rep, c, platform="x", direction="out", body="pitch",
                         sent_at=utcnow() - timedelta(days=3))
    waiting(rep, 1)
    db.session.commit()
    html = auth.login(rep).get("/inbox?view=awaiting").get_data(as_text=True)
    assert "Pitched" in html and "3 d ago" in html and "Waited 1 h" not in html


def test_archived_contacts_leave_the_inbox(auth, rep, db):
    contact = waiting(rep, 2)
    contact.archived_at = utcnow()
    db.session.commit()
    assert services.needs_reply_count(rep) == 0
    assert "Nobody is waiting on you" in auth.login(rep).get("/inbox").get_data(as_text=True)


@pytest.mark.parametrize("user", ["rep", "manager"])
def test_inbox_query_count_does_not_grow_with_rows(auth, request, rep, db, count_queries, user):
    viewer = request.getfixturevalue(user)
    client = auth.login(viewer)

    def queries_for_inbox():
        db.session.commit()
        with count_queries() as q:
            assert client.get("/inbox").status_code == 200
        return q.count

    for hours in range(3):
        waiting(rep, hours + 1)
    few = queries_for_inbox()
    for hours in range(40):
        factories.HandleFactory(contact=waiting(rep, hours + 10), platform="x")
    assert queries_for_inbox() == few


def test_nav_badge_counts_only_what_the_user_may_see(auth, rep, other_rep, db):
    waiting(rep, 1)
    waiting(other_rep, 1)
    db.session.commit()
    mine = auth.login(rep).get("/inbox/count").get_data(as_text=True)
    assert ">1</span>" in mine and 'hx-trigger="messageLogged from:body' in mine
    assert "<html" not in mine


def test_the_inbox_and_its_navigation_badge_share_one_count(auth, rep, other_rep, db,
                                                            count_queries):
    from crm.conversations.queries import COUNT_CAP

    assert COUNT_CAP == services.NAV_COUNT_CAP      # the same figure, capped alike
    waiting(rep, 1)
    waiting(rep, 2, platform="x")
    waiting(other_rep, 1)
    client = auth.login(rep)
    db.session.commit()
    with count_queries() as q:
        html = client.get("/inbox").get_data(as_text=True)
    assert 'aria-label="conversations waiting on you">2</span>' in html
    assert sum("count(*)" in s for s in q.statements) == 1
    # A filtered inbox counts less than the badge does: the badge is counted on its own.
    html = client.get("/inbox?platform=x").get_data(as_text=True)
    assert "1 conversation waiting on you" in html
    assert 'aria-label="conversations waiting on you">2</span>' in html


def test_nav_badge_is_bounded(rep, db):
    for hours in range(5):
        waiting(rep, hours + 1)
    assert services.needs_reply_count(rep, cap=3) == 4


def test_boosted_pages_keep_the_badge(auth, rep, db):
    waiting(rep, 1)
    db.session.commit()
    html = auth.login(rep).get("/contacts", headers={"HX-Request": "true",
                                                     "HX-Boosted": "true"}).get_data(as_text=True)
    assert 'id="nav-needs-reply" class="count-badge "' in html


def _waiting_rows(owner, late: int, recent: int):
    """Conversations waiting on us, made directly (a hundred through the service is slow)."""
    now = utcnow()
    for i in range(late + recent):
        contact = factories.ContactFactory(owner_id=owner.id)
        factories.ConversationFactory(contact=contact, state="needs_reply",
                                      waiting_since=now - timedelta(hours=30 + i if i < late else 1))


def test_counts_stop_at_99_and_the_late_count_stays_exact_below_it(auth, rep, other_rep, db):
    _waiting_rows(rep, late=5, recent=100)
    _waiting_rows(other_rep, late=3, recent=0)        # not the rep's to see
    db.session.commit()
    page = queries.inbox_page(rep, InboxFilters())
    assert (page.total, page.over_target) == (100, 5)
    html = auth.login(rep).get("/inbox").get_data(as_text=True)
    assert "99+ conversations waiting on you" in html and "5 over the 24 h target" in html


def test_a_late_count_over_99_says_so(auth, rep, db):
    _waiting_rows(rep, late=101, recent=2)
    db.session.commit()
    html = auth.login(rep).get("/inbox").get_data(as_text=True)
    assert "99+ conversations waiting on you" in html and "99+ over the 24 h target" in html


def badge(client) -> str:
    html = client.get("/contacts").get_data(as_text=True)
    marker = 'aria-label="conversations waiting on you">'
    return html.split(marker, 1)[1].split("<", 1)[0] if marker in html else "0"


def test_the_remembered_badge_follows_every_change(auth, rep, other_rep, manager, db,
                                                   remembering):
    from crm.contacts import services as contacts

    mine = waiting(rep, 2)
    waiting(other_rep, 3)
    db.session.commit()
    rep_client = auth.login(rep)
    assert badge(rep_client) == "1"
    assert badge(rep_client) == "1"          # remembered: the same answer
    assert badge(auth.login(manager)) == "2"  # a manager's count is not the rep's
    rep_client = auth.login(rep)
    later = waiting(rep, 1)                  # a DM received
    db.session.commit()
    assert badge(rep_client) == "2"
    services.log_message(rep, later, platform="instagram", direction="out", body="On it")
    db.session.commit()                      # answered
    assert badge(rep_client) == "1"
    contacts.set_owner(manager, mine, other_rep.id)
    db.session.commit()                      # reassigned away
    assert badge(rep_client) == "0"
    nobodys = waiting(None, 4, actor=rep)    # unowned: visible to reps
    db.session.commit()
    assert badge(rep_client) == "1"
    contacts.archive(manager, nobodys)
    db.session.commit()
    assert badge(rep_client) == "0"
