"""Cursor pages over data that changes between pages: every row that was there throughout
is listed exactly once, in order; rows added or removed meanwhile never shift the others."""
from datetime import timedelta

from crm.contacts import services as contacts
from crm.contacts.models import Contact
from crm.conversations import services as conversations
from crm.core.timeutil import utcnow
from crm.extensions import db
from tests import factories


def _walk(api, url, on_page=None):
    seen, pages = [], 0
    while url:
        resp = api.get(url)
        assert resp.status_code == 200, resp.json
        seen += resp.json["data"]
        url = resp.json["next"]
        pages += 1
        if on_page:
            on_page(pages)
    return seen, pages


def test_contacts_pages_over_changing_data(rep, api_as):
    names = [f"Person {c}" for c in "ABCDEFGHIJ"]
    for name in names:
        factories.ContactFactory(name=name, owner_id=rep.id)
    db.session.commit()
    api = api_as(rep)

    def change(page):
        if page == 1:      # one added before the cursor, one after; one removed ahead
            factories.ContactFactory(name="Person AA", owner_id=rep.id)
            factories.ContactFactory(name="Person ZZ", owner_id=rep.id)
            gone = db.session.query(Contact).filter_by(name="Person H").one()
            contacts.archive(rep, gone)
            db.session.commit()

    rows, pages = _walk(api, "/api/v1/contacts?limit=3", change)
    listed = [r["name"] for r in rows]
    assert pages >= 4
    assert len(listed) == len(set(listed))
    stayed = [n for n in names if n != "Person H"]
    assert [n for n in listed if n in stayed] == stayed
    assert "Person ZZ" in listed and "Person AA" not in listed and "Person H" not in listed


def test_messages_pages_back_in_time_while_new_ones_arrive(rep, api_as):
    contact = factories.ContactFactory(name="Chatty", owner_id=rep.id)
    start = utcnow() - timedelta(hours=5)
    for i in range(7):
        msg = conversations.log_message(rep, contact, platform="instagram",
                                        direction="in" if i % 2 == 0 else "out",
                                        body=f"m{i}", sent_at=start + timedelta(minutes=i))
    db.session.commit()
    api = api_as(rep)

    def arrive(page):
        conversations.log_message(rep, contact, platform="instagram", direction="in",
                                  body=f"new{page}", sent_at=utcnow())
        db.session.commit()

    rows, pages = _walk(api, f"/api/v1/conversations/{msg.conversation_id}/messages?limit=3",
                        arrive)
    assert [r["body"] for r in rows] == ["m4", "m5", "m6", "m1", "m2", "m3", "m0"]
    assert pages == 3


def test_tasks_and_inbox_pages(rep, api_as):
    for i in range(5):
        factories.TaskFactory(title=f"T{i}", assignee_id=rep.id,
                              due_at=utcnow() - timedelta(days=1, minutes=i))
        contact = factories.ContactFactory(name=f"Waiting {i}", owner_id=rep.id)
        conversations.log_message(rep, contact, platform="instagram", direction="in",
                                  body="?", sent_at=utcnow() - timedelta(hours=i + 1))
    db.session.commit()
    api = api_as(rep)
    tasks, _ = _walk(api, "/api/v1/tasks?section=overdue&limit=2")
    assert [t["title"] for t in tasks] == ["T4", "T3", "T2", "T1", "T0"]
    inbox, _ = _walk(api, "/api/v1/conversations?limit=2")
    assert [c["contact"]["name"] for c in inbox] == [f"Waiting {i}" for i in (4, 3, 2, 1, 0)]
