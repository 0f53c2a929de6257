"""Contact search at scale: a search with few matches starts from the search index; one with
many walks the ordered name index. Both give the same pages, counts and query count."""
from datetime import timedelta

import pytest

from crm.contacts import queries
from crm.contacts.queries import ContactFilters, list_contacts
from crm.core.timeutil import utcnow
from tests.factories import ContactFactory

NAMES = ["Zoë Garcia", "Ana Garcia", "Luis Garcia-Lopez", "Mia Garcia", "Bo Garcia",
         "Ines Garcia", "Carl Garcia"]


@pytest.fixture
def people(db, rep, other_rep):
    now = utcnow()
    mine = [ContactFactory(name=n, owner_id=rep.id if i % 2 else None,
                           created_at=now - timedelta(days=i)) for i, n in enumerate(NAMES)]
    ContactFactory(name="Theirs Garcia", owner_id=other_rep.id)
    ContactFactory(name="Archived Garcia", archived_at=now)
    ContactFactory(name="Ana Smith")
    db.session.commit()
    return mine


def pages(user, f, size):
    seen, cursor, counts = [], None, set()
    while True:
        page = list_contacts(user, f, cursor, page_size=size)
        seen += [c.name for c in page.rows]
        counts.add(page.count)
        cursor = page.next_cursor
        if cursor is None:
            return seen, counts


@pytest.mark.parametrize("few", [1000, 3], ids=["few-matches", "many-matches"])
def test_search_pages_in_name_order_within_scope(people, rep, monkeypatch, few):
    monkeypatch.setattr(queries, "FEW_MATCHES", few)
    seen, counts = pages(rep, ContactFilters(q="garcia"), size=3)
    assert seen == sorted(NAMES, key=str.lower)
    assert counts == {7}


@pytest.mark.parametrize("few", [1000, 3], ids=["few-matches", "many-matches"])
def test_search_sorted_by_newest(people, manager, monkeypatch, few):
    monkeypatch.setattr(queries, "FEW_MATCHES", few)
    seen, counts = pages(manager, ContactFilters(q="garcia", sort="newest"), size=2)
    assert seen[0] == "Theirs Garcia"   # created last, by the factory's clock
    assert seen[1:] == NAMES and counts == {8}


def test_search_without_matches(people, manager):
    page = list_contacts(manager, ContactFilters(q="nobody-like-this"))
    assert page.rows == [] and page.count == 0 and page.next_cursor is None


def test_search_runs_the_same_number_of_queries_either_way(people, auth, manager, monkeypatch,
                                                          count_queries):
    client = auth.login(manager)
    client.get("/contacts?q=garcia")   # the first request also loads what is cached after it
    counts = []
    for few in (1000, 3):
        monkeypatch.setattr(queries, "FEW_MATCHES", few)
        with count_queries() as q:
            resp = client.get("/contacts?q=garcia")
        assert resp.status_code == 200 and b"Zo\xc3\xab Garcia" in resp.data
        counts.append(q.count)
    assert counts[0] == counts[1]
