"""Counts capped at a constant carry the cap in the statement's text, not as a bound value.

psycopg prepares a statement it has run five times and PostgreSQL may then plan it once for
every value; for a bound LIMIT that plan guesses a tenth of the rows and scans the table
(crm.core.plans). Written into the text, the cap is planned for as it is."""
import re

import pytest

from crm.contacts import queries as contacts
from crm.conversations import queries as inbox, services as dms
from crm.tasks import queries as today, services as tasks
from tests.factories import ContactFactory

# SELECT count(*) AS count_1 FROM (SELECT … LIMIT …): a count of a capped subquery.
CAPPED_COUNT = re.compile(r"count\(\*\) AS count_\d+.*?FROM \(SELECT.*LIMIT", re.DOTALL)


def _capped_counts(statements) -> list[str]:
    return [s for s in statements if CAPPED_COUNT.search(s)]


@pytest.mark.parametrize("url, cap", [("/contacts?q=garcia", contacts.COUNT_CAP + 1),
                                      ("/contacts", contacts.COUNT_CAP + 1),
                                      ("/inbox", inbox.COUNT_CAP + 1),
                                      ("/today", today.COUNT_CAP + 1)])
def test_a_page_count_writes_its_cap_into_the_statement(db, auth, rep, count_queries, url, cap):
    ContactFactory(name="Ana Garcia", owner_id=rep.id)
    db.session.commit()
    client = auth.login(rep)
    with count_queries() as q:
        assert client.get(url).status_code == 200
    counts = _capped_counts(q.statements)
    assert any(re.search(rf"LIMIT {cap}\b", s) for s in counts), counts
    for statement in counts:     # the page's own and the badges'
        assert re.search(r"LIMIT \d+\b", statement), statement


def test_the_badges_counts_write_their_caps_into_the_statement(db, rep, count_queries):
    with count_queries() as q:
        dms.needs_reply_count(rep)
        tasks.due_counts(rep)
    counts = _capped_counts(q.statements)
    assert len(counts) == 3
    caps = [dms.NAV_COUNT_CAP + 1, tasks.COUNT_CAP + 1, tasks.COUNT_CAP + 1]
    for statement, cap in zip(counts, caps):
        assert re.search(rf"LIMIT {cap}\b", statement), statement


def test_postgresql_sessions_run_without_jit(db):
    """The app's PostgreSQL connections turn JIT compilation off (crm._postgres_settings):
    its threshold is a cost estimate, and the dashboard's short counts were compiled for
    longer than they ran. SQLite has no JIT."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's setting; the PostgreSQL run checks it")
    assert db.session.execute(db.text("SHOW jit")).scalar() == "off"
