"""Follow-up tasks: creating them (outreach passes the consent gate), the Today page in the
user's time zone, one-click complete and snooze, cancelling on opt-out, permissions."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts.consent import change_consent
from crm.core.errors import OutreachRefused, ValidationFailed
from crm.core.timeutil import from_local, local, utcnow
from crm.extensions import db as _db
from crm.tasks import services
from crm.tasks.models import Task
from tests import factories


def count_tasks(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Task))


@pytest.fixture
def contact(db, rep):
    return factories.ContactFactory(name="Liam Okafor", owner_id=rep.id)


# Creating ------------------------------------------------------------------------------------
def test_create_task_from_the_contact_page_with_htmx(auth, db, rep, contact, hx):
    resp = auth.login(rep).post("/tasks/new", headers=hx, data={
        "title": "Send the rate card", "due_on": "2030-05-04", "due_time": "14:30",
        "assignee_id": rep.id, "contact_id": contact.id, "scope": "contact"})
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "taskChanged"
    body = resp.data.decode()
    assert "<html" not in body and f'id="tasks-contact-{contact.id}"' in body
    assert "Send the rate card" in body
    task = db.session.scalars(select(Task)).one()
    assert (task.contact_id, task.assignee_id, task.created_by_id) == (contact.id, rep.id, rep.id)
    assert task.due_at == datetime(2030, 5, 4, 14, 30)   # the rep's zone is UTC


def test_due_time_is_read_in_the_users_zone(auth, db, rep):
    rep.timezone = "America/New_York"
    auth.login(rep).post("/tasks/new", data={"title": "Call", "due_on": "2030-01-10",
                                             "due_time": "09:00", "assignee_id": rep.id})
    assert db.session.scalars(select(Task)).one().due_at == datetime(2030, 1, 10, 14, 0)


def test_contact_page_has_the_tasks_panel(auth, db, rep, contact):
    factories.TaskFactory(title="Check the draft", contact_id=contact.id, assignee_id=rep.id)
    html = auth.login(rep).get(f"/contacts/{contact.id}").data.decode()
    assert f'id="tasks-contact-{contact.id}"' in html and "Check the draft" in html
    # The form is fetched on demand; without JavaScript the button is a link to the full form.
    assert "This is outreach" not in html
    assert f'href="/tasks/new?contact_id={contact.id}"' in html
    assert f'hx-get="/tasks/new?contact_id={contact.id}"' in html


def test_new_task_fragment_for_the_contact_page(auth, db, rep, contact, hx):
    body = auth.login(rep).get(f"/tasks/new?contact_id={contact.id}", headers=hx).data.decode()
    assert "<html" not in body and "This is outreach" in body and "autofocus" in body
    assert f'hx-target="#tasks-contact-{contact.id}"' in body
    assert 'name="csrf_token"' in body and 'name="scope" type="hidden" value="contact"' in body


def test_new_task_full_page_without_javascript(auth, db, rep, contact):
    body = auth.login(rep).get(f"/tasks/new?contact_id={contact.id}").data.decode()
    assert "<html" in body and "New task for Liam Okafor" in body and "This is outreach" in body
    assert f'value="/contacts/{contact.id}"' in body      # back to the contact afterwards


def test_new_task_fragment_shows_the_consent_refusal(auth, db, rep, contact, hx):
    change_consent(rep, contact, status="opted_out", source="Replied STOP")
    db.session.commit()
    for headers in (hx, {}):
        body = auth.login(rep).get(f"/tasks/new?contact_id={contact.id}", headers=headers).data.decode()
        assert "No outreach task possible" in body and "opted out" in body
        assert "This is outreach" not in body


def test_new_task_fragment_for_someone_elses_contact_is_404(auth, db, rep, other_rep, hx):
    theirs = factories.ContactFactory(owner_id=other_rep.id)
    assert auth.login(rep).get(f"/tasks/new?contact_id={theirs.id}", headers=hx).status_code == 404


def test_new_task_with_a_bad_contact_id_is_the_plain_form(auth, db, rep, hx):
    resp = auth.login(rep).get("/tasks/new?contact_id=abc")
    assert resp.status_code == 200 and b"<html" in resp.data
    assert b'name="contact_id" type="hidden" value=""' in resp.data


@pytest.mark.parametrize("data, message", [
    ({"title": "", "due_on": "2030-01-01"}, b"Say what has to be done."),
    ({"title": "Call", "due_on": ""}, b"Choose a due date."),
    ({"title": "Call", "due_on": "2030-02-30"}, b"Not a valid date value."),
])
def test_bad_task_input_writes_nothing(auth, db, rep, contact, hx, data, message):
    resp = auth.login(rep).post("/tasks/new", headers=hx, data={
        **data, "contact_id": contact.id, "scope": "contact", "assignee_id": rep.id})
    assert resp.status_code == 200 and message in resp.data and b"<html" not in resp.data
    assert count_tasks(db) == 0


def test_rep_cannot_assign_to_someone_else(db, rep, other_rep):
    with pytest.raises(ValidationFailed) as e:
        services.create_task(rep, {"title": "x", "due_at": utcnow(), "assignee_id": other_rep.id})
    assert e.value.field == "assignee_id"


def test_task_on_another_reps_contact_is_refused(auth, db, rep, other_rep):
    theirs = factories.ContactFactory(owner_id=other_rep.id)
    with pytest.raises(ValidationFailed):
        services.create_task(rep, {"title": "x", "due_at": utcnow(), "contact_id": theirs.id})
    resp = auth.login(rep).post("/tasks/new", data={"title": "x", "due_on": "2030-01-01",
                                                    "contact_id": theirs.id, "assignee_id": rep.id})
    assert b"Choose a contact you can see." in resp.data
    assert count_tasks(db) == 0


def test_outreach_task_for_an_opted_out_contact_is_refused(auth, db, rep, contact, hx):
    change_consent(rep, contact, status="opted_out", source="Replied STOP")
    db.session.commit()
    with pytest.raises(OutreachRefused, match="opted out"):
        services.create_task(rep, {"title": "DM again", "due_at": utcnow(), "is_outreach": True,
                                   "contact_id": contact.id})
    db.session.rollback()
    client = auth.login(rep)
    plain = client.post("/tasks/new", data={"title": "DM again", "due_on": "2030-01-01",
                                            "contact_id": contact.id, "is_outreach": "y",
                                            "assignee_id": rep.id})
    assert plain.status_code == 409 and b"opted out" in plain.data
    inline = client.post("/tasks/new", headers=hx, data={
        "title": "DM again", "due_on": "2030-01-01", "contact_id": contact.id, "scope": "contact",
        "is_outreach": "y", "assignee_id": rep.id})
    assert inline.status_code == 200 and b"opted out" in inline.data
    assert b"<html" not in inline.data
    assert count_tasks(db) == 0
    refusals = db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "outreach_refused"))
    assert refusals == 2
    # A plain reminder (not outreach) is still fine.
    assert services.create_task(rep, {"title": "Note the opt-out", "due_at": utcnow(),
                                      "contact_id": contact.id})


def test_opting_out_cancels_open_outreach_tasks_with_a_note(db, rep, contact):
    outreach = factories.TaskFactory(contact_id=contact.id, is_outreach=True, assignee_id=rep.id)
    reminder = factories.TaskFactory(contact_id=contact.id, is_outreach=False, assignee_id=rep.id)
    done = factories.TaskFactory(contact_id=contact.id, is_outreach=True, status="done")
    change_consent(rep, contact, status="opted_out", source="Replied STOP")
    db.session.commit()
    assert outreach.status == "cancelled" and outreach.cancelled_at is not None
    assert "Liam Okafor opted out" in outreach.cancel_note
    assert reminder.status == "open" and done.status == "done"


def test_archiving_a_contact_cancels_their_open_outreach_tasks(auth, db, rep, contact):
    outreach = factories.TaskFactory(contact_id=contact.id, is_outreach=True, assignee_id=rep.id)
    reminder = factories.TaskFactory(contact_id=contact.id, is_outreach=False, assignee_id=rep.id)
    resp = auth.login(rep).post(f"/contacts/{contact.id}/archive")
    assert resp.status_code == 302
    db.session.expire_all()
    assert outreach.status == "cancelled" and outreach.cancelled_at is not None
    assert "Liam Okafor is archived" in outreach.cancel_note
    assert reminder.status == "open"
    # Restoring them does not bring the outreach back: someone decides again.
    auth.client.post(f"/contacts/{contact.id}/restore")
    db.session.expire_all()
    assert outreach.status == "cancelled"


def _refusals(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "outreach_refused"))


@pytest.mark.parametrize("change", [{"status": "opted_out"}, {"do_not_contact": True}])
def test_reopening_a_done_outreach_task_passes_the_consent_gate(auth, db, rep, contact, hx,
                                                                 change):
    outreach = factories.TaskFactory(title="DM the brief", contact_id=contact.id,
                                     is_outreach=True, assignee_id=rep.id, status="done",
                                     done_at=utcnow())
    change_consent(rep, contact, source="Replied STOP", **change)
    client = auth.login(rep)
    resp = client.post(f"/tasks/{outreach.id}/reopen", headers=hx)
    assert resp.status_code == 200 and b"<html" not in resp.data
    assert "No outreach task is possible" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert outreach.status == "done"
    assert _refusals(db) == 1
    # Without JavaScript: the refusal page.
    page = client.post(f"/tasks/{outreach.id}/reopen")
    assert page.status_code == 409 and "No outreach task is possible" in page.get_data(as_text=True)
    db.session.expire_all()
    assert outreach.status == "done" and _refusals(db) == 2


def test_reopening_a_done_reminder_for_someone_who_opted_out_is_fine(auth, db, rep, contact, hx):
    reminder = factories.TaskFactory(contact_id=contact.id, is_outreach=False,
                                     assignee_id=rep.id, status="done", done_at=utcnow())
    change_consent(rep, contact, status="opted_out")
    auth.login(rep).post(f"/tasks/{reminder.id}/reopen", headers=hx)
    db.session.expire_all()
    assert reminder.status == "open"


# Complete, reopen, snooze ---------------------------------------------------------------------
def test_complete_and_undo_with_htmx(auth, db, rep, contact, hx):
    task = factories.TaskFactory(title="Send contract", contact_id=contact.id, assignee_id=rep.id)
    client = auth.login(rep)
    done = client.post(f"/tasks/{task.id}/complete", headers=hx, data={"version": task.version})
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "taskChanged"
    assert b"<html" not in done.data and b"task-done" in done.data
    db.session.expire_all()
    assert task.status == "done" and task.done_at is not None
    undo = client.post(f"/tasks/{task.id}/reopen", headers=hx)
    assert b"task-open" in undo.data
    db.session.expire_all()
    assert task.status == "open" and task.done_at is None


def test_complete_without_javascript_redirects_back(auth, db, rep):
    task = factories.TaskFactory(assignee_id=rep.id)
    resp = auth.login(rep).post(f"/tasks/{task.id}/complete", data={"next": "/today?x=1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/today?x=1")
    evil = auth.client.post(f"/tasks/{task.id}/reopen", data={"next": "https://evil.example/"})
    assert evil.headers["Location"].endswith("/today")


def test_stale_complete_is_refused(auth, db, rep, hx):
    task = factories.TaskFactory(assignee_id=rep.id)
    old = task.version
    services.snooze_task(rep, task, "1d")
    db.session.commit()
    resp = auth.login(rep).post(f"/tasks/{task.id}/complete", headers=hx, data={"version": old})
    assert b"changed by someone else" in resp.data
    db.session.expire_all()
    assert task.status == "open"


def test_snooze_keeps_the_local_time(db, rep):
    tz = "Europe/Berlin"
    now = from_local(datetime(2030, 3, 6, 15, 0), tz)      # a Wednesday afternoon
    task = factories.TaskFactory(assignee_id=rep.id, due_at=from_local(datetime(2030, 3, 6, 9, 30), tz))
    assert local(services.snoozed_until(task, "1d", tz, now), tz).replace(tzinfo=None) == \
        datetime(2030, 3, 7, 9, 30)
    assert local(services.snoozed_until(task, "3d", tz, now), tz).replace(tzinfo=None) == \
        datetime(2030, 3, 9, 9, 30)
    assert local(services.snoozed_until(task, "next_week", tz, now), tz).replace(tzinfo=None) == \
        datetime(2030, 3, 11, 9, 0)
    overdue = factories.TaskFactory(due_at=from_local(datetime(2030, 3, 1, 11, 0), tz))
    assert local(services.snoozed_until(overdue, "1d", tz, now), tz).replace(tzinfo=None) == \
        datetime(2030, 3, 7, 11, 0)
    with pytest.raises(ValidationFailed):
        services.snoozed_until(task, "forever", tz, now)


def test_snooze_in_one_click(auth, db, rep, hx):
    task = factories.TaskFactory(title="Chase invoice", assignee_id=rep.id,
                                 due_at=utcnow() - timedelta(days=2))
    resp = auth.login(rep).post(f"/tasks/{task.id}/snooze", headers=hx,
                                data={"until": "3d", "version": task.version})
    assert resp.status_code == 200 and b"Snoozed until" in resp.data
    assert resp.headers["HX-Trigger"] == "taskChanged"
    db.session.expire_all()
    assert task.due_at > utcnow() + timedelta(days=2) and task.snooze_count == 1
    assert auth.client.post(f"/tasks/{task.id}/snooze", data={"until": "nope"}).status_code == 400


# Permissions -------------------------------------------------------------------------------
def test_another_reps_task_is_404(auth, db, rep, other_rep, hx):
    theirs = factories.TaskFactory(assignee_id=other_rep.id, contact_id=factories.ContactFactory(
        owner_id=other_rep.id).id)
    client = auth.login(rep)
    for url, data in ((f"/tasks/{theirs.id}/complete", {}), (f"/tasks/{theirs.id}/reopen", {}),
                      (f"/tasks/{theirs.id}/snooze", {"until": "1d"})):
        assert client.post(url, data=data).status_code == 404
        assert client.post(url, data=data, headers=hx).status_code == 404
    db.session.expire_all()
    assert theirs.status == "open" and theirs.snooze_count == 0
    assert theirs.title not in client.get("/today").data.decode()


# Today ---------------------------------------------------------------------------------------
def test_today_sorts_overdue_today_and_upcoming_in_the_users_zone(auth, db, rep, other_rep):
    rep.timezone = "America/Los_Angeles"
    now = utcnow()
    today = local(now, rep.timezone).date()
    at = lambda days, h: from_local(datetime.combine(today + timedelta(days=days),  # noqa: E731
                                                     datetime.min.time()) + timedelta(hours=h),
                                    rep.timezone)
    factories.TaskFactory(title="Yesterday late", assignee_id=rep.id, due_at=at(-1, 23))
    factories.TaskFactory(title="Today early", assignee_id=rep.id, due_at=at(0, 0.5))
    factories.TaskFactory(title="Today late", assignee_id=rep.id, due_at=at(0, 23.5))
    factories.TaskFactory(title="Tomorrow", assignee_id=rep.id, due_at=at(1, 8))
    factories.TaskFactory(title="Far away", assignee_id=rep.id, due_at=at(40, 8))
    factories.TaskFactory(title="Someone else's", assignee_id=other_rep.id, due_at=at(0, 10))
    factories.TaskFactory(title="Finished", assignee_id=rep.id, due_at=at(0, 9), status="done")
    html = auth.login(rep).get("/today").data.decode()
    overdue = html[html.index('id="today-overdue-h"'):html.index('id="today-today-h"')]
    todays = html[html.index('id="today-today-h"'):html.index('id="today-upcoming-h"')]
    upcoming = html[html.index('id="today-upcoming-h"'):]
    assert "Yesterday late" in overdue and "Today early" not in overdue
    assert "Today early" in todays and "Today late" in todays
    assert "Tomorrow" in upcoming
    for hidden in ("Far away", "Someone else's", "Finished"):
        assert hidden not in html
    assert services.due_counts(rep) == {"overdue": 1, "due_today": 2}
    assert "1 overdue</span> · 2 due today" in html     # the head's counts say the same


def test_home_page_counts_come_from_due_counts(auth, db, rep):
    factories.TaskFactory(title="Chase the signed contract", assignee_id=rep.id,
                          due_at=utcnow() - timedelta(days=3))
    html = auth.login(rep).get("/").data.decode()
    assert services.due_counts(rep) == {"overdue": 1, "due_today": 0}
    assert '<span class="stat-value">1</span><span class="stat-label">task overdue' in html
    assert "Chase the signed contract" in html


def test_manager_sees_everyones_tasks_on_request(auth, db, manager, rep):
    factories.TaskFactory(title="Rep task", assignee_id=rep.id)
    client = auth.login(manager)
    assert "Rep task" not in client.get("/today").data.decode()
    assert "Rep task" in client.get("/today?who=all").data.decode()
    assert "Rep task" in client.get(f"/today?who={rep.id}").data.decode()
    fragment = client.get(f"/today?who={rep.id}", headers={"HX-Request": "true",
                                                           "HX-Target": "today-lists"})
    assert b"<html" not in fragment.data and b"Rep task" in fragment.data


def test_kept_today_statements_follow_whose_tasks_and_the_day(auth, db, rep, other_rep,
                                                               manager):
    """Today's sections are built once per viewer, scope, choice and day
    (crm.core.statements): each viewer still gets their own, and a new day its own."""
    from crm.tasks.queries import today_lists

    factories.TaskFactory(title="Rep task", assignee_id=rep.id)
    factories.TaskFactory(title="Their task", assignee_id=other_rep.id)
    db.session.commit()

    def titles(user, who="me", now=None):
        lists = today_lists(user, who, now=now)
        return {t.title for t in lists.overdue + lists.today + lists.upcoming}

    assert titles(rep) == {"Rep task"}
    assert titles(other_rep) == {"Their task"}
    assert titles(rep, "all") == {"Rep task"}            # a rep's "all" is their own
    assert titles(manager, "all") == {"Rep task", "Their task"}
    assert titles(manager, str(other_rep.id)) == {"Their task"}
    rep.role = "manager"
    db.session.commit()
    assert titles(rep, "all") == {"Rep task", "Their task"}
    # Twenty days on, both tasks are overdue: a new day, new bounds.
    later = titles(manager, "all", now=utcnow() + timedelta(days=20))
    assert later == {"Rep task", "Their task"}
    overdue = today_lists(manager, "all", now=utcnow() + timedelta(days=20)).overdue
    assert {t.title for t in overdue} == later


def test_rep_cannot_look_at_someone_elses_today(auth, db, rep, other_rep):
    factories.TaskFactory(title="Their task", assignee_id=other_rep.id)
    assert "Their task" not in auth.login(rep).get(f"/today?who={other_rep.id}").data.decode()


def test_today_query_count_does_not_grow(auth, db, rep, count_queries):
    rep_id = rep.id  # `rep` leaves the session with the cold runs below

    def add(n):
        for i in range(n):
            c = factories.ContactFactory(owner_id=rep_id)
            factories.HandleFactory(contact=c)
            deal = factories.DealFactory(contact=c)
            factories.TaskFactory(assignee_id=rep_id, contact_id=c.id, deal_id=deal.id,
                                  due_at=utcnow() + timedelta(days=i % 5 - 2))
        _db.session.commit()

    client = auth.login(rep)
    add(60)  # every section longer than its first page, so both runs count and page on
    client.get("/today")

    def cold():
        _db.session.remove()
        return client.get("/today")

    with count_queries() as few:
        cold()
    add(60)
    with count_queries() as many:
        cold()
    assert many.count == few.count, many.statements


def test_today_counts_fragment_follows_task_changes(auth, db, rep, hx):
    task = factories.TaskFactory(assignee_id=rep.id, due_at=utcnow() - timedelta(days=2))
    client = auth.login(rep)
    page = client.get("/today").data.decode()
    assert 'hx-trigger="taskChanged from:body"' in page and "1 overdue" in page
    client.post(f"/tasks/{task.id}/complete", headers=hx)
    fragment = client.get("/today/counts", headers=hx).data.decode()
    assert "<html" not in fragment and "0 overdue" in fragment


def test_today_header_and_section_counts_agree_after_a_snooze(auth, db, rep, hx):
    late = [factories.TaskFactory(assignee_id=rep.id, due_at=utcnow() - timedelta(days=2))
            for _ in range(3)]
    client = auth.login(rep)
    page = client.get("/today").data.decode()
    assert "3 overdue" in page and '<span class="count-pill" id="today-count-overdue">3</span>' in page
    resp = client.post(f"/tasks/{late[0].id}/snooze", data={"until": "1d"}, headers=hx)
    assert resp.headers["HX-Trigger"] == "taskChanged"
    fragment = client.get("/today/counts", headers=hx).data.decode()
    assert "<html" not in fragment and "2 overdue" in fragment
    assert '<span class="count-pill" id="today-count-overdue" hx-swap-oob="true">2</span>' \
        in fragment


# Long sections page on --------------------------------------------------------------------------
def _overdue_tasks(n, assignee, prefix="Overdue"):
    base = utcnow() - timedelta(days=3)
    return [factories.TaskFactory(title=f"{prefix} {i:03d}", assignee_id=assignee.id,
                                  due_at=base + timedelta(minutes=i)) for i in range(n)]


def _more_link(html: str) -> str | None:
    if 'hx-get="/today/' not in html:
        return None
    link = html[html.index('hx-get="/today/') + 8:]
    return link[:link.index('"')].replace("&amp;", "&")


def test_a_long_today_section_shows_its_first_rows_counts_all_and_pages_on(auth, db, rep, hx):
    from crm.tasks.queries import PAGE_LIMIT, SECTION_LIMIT

    total = SECTION_LIMIT + PAGE_LIMIT + 2
    _overdue_tasks(total, rep)
    client = auth.login(rep)
    page = client.get("/today").data.decode()
    overdue = page[page.index('id="today-overdue-h"'):page.index('id="today-today-h"')]
    assert f'<span class="count-pill" id="today-count-overdue">{total}</span>' in overdue
    assert f"{total} overdue</span>" in page
    assert overdue.count('class="task task-open') == SECTION_LIMIT
    link = _more_link(overdue)
    assert link.startswith("/today/overdue?")

    fragment = client.get(link, headers=hx).data.decode()
    assert "<html" not in fragment and fragment.count('class="task task-open') == PAGE_LIMIT
    assert f"Overdue {SECTION_LIMIT:03d}" in fragment
    assert f"Overdue {SECTION_LIMIT - 1:03d}" not in fragment
    last = client.get(_more_link(fragment), headers=hx).data.decode()
    assert [f"Overdue {i:03d}" in last for i in range(total - 3, total)] == [False, True, True]
    assert _more_link(last) is None     # the end of the section

    # Without JavaScript the link opens the same rows as a page of their own.
    full = client.get(link).data.decode()
    assert "<html" in full and "Back to Today" in full and f"Overdue {SECTION_LIMIT:03d}" in full


def test_today_pages_stay_in_the_viewers_scope(auth, db, rep, other_rep, manager, hx):
    from crm.tasks.queries import SECTION_LIMIT

    _overdue_tasks(SECTION_LIMIT + 3, other_rep, prefix="Theirs")
    mine = _overdue_tasks(2, rep, prefix="Mine")
    client = auth.login(rep)
    # A rep asking for someone else's rows still gets only their own.
    fragment = client.get(f"/today/overdue?who={other_rep.id}", headers=hx).data.decode()
    assert "Theirs" not in fragment and mine[0].title in fragment
    # A manager pages through another rep's section.
    client = auth.login(manager)
    page = client.get(f"/today?who={other_rep.id}").data.decode()
    assert "Theirs 000" in page and f"Theirs {SECTION_LIMIT:03d}" not in page
    assert f"/today/overdue?who={other_rep.id}" in page.replace("&amp;", "&")


def test_today_section_rejects_unknown_sections_and_ignores_a_bad_cursor(auth, db, rep, hx):
    _overdue_tasks(2, rep)
    client = auth.login(rep)
    assert client.get("/today/someday", headers=hx).status_code == 404
    fragment = client.get("/today/overdue?after=not-a-cursor", headers=hx).data.decode()
    assert "Overdue 000" in fragment and "Overdue 001" in fragment


def test_a_contacts_tasks_are_its_open_ones_soonest_first_then_the_last_closed(
        db, rep, other_rep, contact, count_queries):
    from crm.tasks.queries import tasks_for_contact

    now = utcnow()
    for n in range(4):
        factories.TaskFactory(title=f"Open {n}", contact_id=contact.id, assignee_id=rep.id,
                              due_at=now + timedelta(days=3 - n))
    for n in range(7):
        factories.TaskFactory(title=f"Done {n}", contact_id=contact.id, assignee_id=rep.id,
                              status="done", due_at=now, done_at=now - timedelta(hours=n))
    factories.TaskFactory(title="Cancelled", contact_id=contact.id, assignee_id=rep.id,
                          status="cancelled", due_at=now, cancelled_at=now - timedelta(minutes=90))
    factories.TaskFactory(title="Elsewhere", assignee_id=rep.id, due_at=now)
    db.session.commit()
    rep.role, contact.name       # loaded again after the commit, before counting
    with count_queries() as q:
        titles = [t.title for t in tasks_for_contact(rep, contact, limit=3)]
    assert q.count == 1, q.statements
    assert titles == ["Open 3", "Open 2", "Open 1", "Done 0", "Done 1", "Cancelled", "Done 2",
                      "Done 3"]
    # Another rep sees none of them: the contact is not theirs, nor are the tasks.
    assert tasks_for_contact(other_rep, contact) == []


def test_todays_new_task_form_is_fetched_when_asked_for(auth, db, rep, hx):
    client = auth.login(rep)
    page = client.get("/today").data.decode()
    assert 'name="title"' not in page
    assert 'href="/tasks/new" hx-get="/tasks/new"' in page and ">New task</a>" in page
    form = client.get("/tasks/new", headers=hx).data.decode()
    assert "<html" not in form and 'action="/tasks/new"' in form and "hx-post" not in form
    assert 'name="title"' in form and "autofocus" in form
    # Without JavaScript the link is the full page, and the form still comes back to Today.
    full = client.get("/tasks/new").data.decode()
    assert "<html" in full and 'name="title"' in full
    resp = client.post("/tasks/new", data={"title": "Call the venue", "due_on": "2030-01-02",
                                           "due_time": "09:00", "assignee_id": str(rep.id)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/today")
