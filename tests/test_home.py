"""The home page: who waits on me and what is due, within my scope."""
from datetime import timedelta

from crm.core.timeutil import utcnow
from tests.factories import ContactFactory, ConversationFactory, TaskFactory


def test_home_shows_my_waits_and_tasks_only(auth, rep, other_rep, db, count_queries):
    now = utcnow()
    mine = ContactFactory(name="Mina Mine", owner_id=rep.id)
    theirs = ContactFactory(name="Theo Theirs", owner_id=other_rep.id)
    ConversationFactory(contact=mine, state="needs_reply", waiting_since=now - timedelta(hours=30),
                        last_message_preview="Any news?")
    ConversationFactory(contact=theirs, state="needs_reply", waiting_since=now - timedelta(days=3))
    TaskFactory(title="Send the brief", assignee_id=rep.id, contact_id=mine.id,
                due_at=now - timedelta(days=2))
    TaskFactory(title="Their task", assignee_id=other_rep.id, due_at=now)
    TaskFactory(title="Call back", assignee_id=rep.id, contact_id=mine.id, due_at=now)
    client = auth.login(rep)
    # Settings are read once per session, and a test's requests share one; the commit
    # expires the user as the commit before the second count does.
    client.get("/")
    db.session.commit()
    with count_queries() as q:
        page = client.get("/").get_data(as_text=True)
    assert "Mina Mine" in page and "Any news?" in page and "over 24 h" in page
    assert "Theo Theirs" not in page
    assert "Send the brief" in page and "Their task" not in page
    assert "1 task overdue" in page.replace("\n", " ").replace("</span><span class=\"stat-label\">", " ")
    few = q.count
    for i in range(10):
        c = ContactFactory(owner_id=rep.id)
        ConversationFactory(contact=c, state="needs_reply", waiting_since=now - timedelta(hours=i))
        TaskFactory(assignee_id=rep.id, contact_id=c.id, due_at=now)
    db.session.commit()
    with count_queries() as q:
        assert client.get("/").status_code == 200
    assert q.count == few


def test_manager_home_counts_the_team(auth, manager, rep, db):
    c = ContactFactory(name="Rae's Lead", owner_id=rep.id)
    ConversationFactory(contact=c, state="needs_reply", waiting_since=utcnow())
    page = auth.login(manager).get("/").get_data(as_text=True)
    assert "Rae&#39;s Lead" in page and "waiting on you" in page


def test_waiting_on_you_is_one_number_in_the_badge_home_and_dashboard(auth, rep, other_rep,
                                                                       manager, db):
    """One definition: needs a reply, on live contacts you may answer (yours and the
    unassigned ones; everyone's for a manager)."""
    import re
    now = utcnow()
    mine = ContactFactory(owner_id=rep.id)
    nobodys = ContactFactory(owner_id=None)
    theirs = ContactFactory(owner_id=other_rep.id)
    gone = ContactFactory(owner_id=rep.id, archived_at=now)
    for contact in (mine, nobodys, theirs, gone):
        ConversationFactory(contact=contact, state="needs_reply",
                            waiting_since=now - timedelta(hours=2))
    for user, expected in ((rep, 2), (manager, 3)):
        client = auth.login(user)
        home = client.get("/").get_data(as_text=True)
        badge = re.search(r'aria-label="conversations waiting on you">(\d+)<', home).group(1)
        stat = re.search(r'stat-value">(\d+)</span>\s*<span class="stat-label">conversations? '
                         r'waiting on you', home).group(1)
        dashboard = client.get("/dashboard").get_data(as_text=True)
        kpi = re.search(r'stat-value">(\d+)</span>\s*<span class="stat-label">conversations? '
                        r'waiting on you', dashboard).group(1)
        assert int(badge) == int(stat) == int(kpi) == expected, user.role
