"""Editing tasks: edit in place and without JavaScript, reassign (to someone who may see the
contact), delete, snooze to a chosen date; each audited, each refused clearly when stale or
wrong, with nothing changed."""
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.core.timeutil import from_local, local, utcnow
from crm.tasks import services
from crm.tasks.followups import create_follow_ups
from crm.tasks.models import Task
from tests import factories
from tests.test_concurrency import Browser, at_once
from tests.test_followups import unanswered


@pytest.fixture
def contact(db, rep):
    return factories.ContactFactory(name="Liam Okafor", owner_id=rep.id)


@pytest.fixture
def task(db, rep, contact):
    return factories.TaskFactory(title="Send the rate card", contact_id=contact.id,
                                 assignee_id=rep.id, due_at=datetime(2030, 5, 4, 9, 0))


def audits(db, task, action):
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity_type == "task", AuditEvent.entity_id == task.id,
        AuditEvent.action == action)).all()


def edit_data(task, **changes):
    return {"title": task.title, "due_on": "2030-05-04", "due_time": "09:00",
            "assignee_id": task.assignee_id or "", "notes": task.notes or "",
            "version": task.version, **changes}


# Editing -------------------------------------------------------------------------------------
def test_edit_in_place_with_htmx(auth, db, rep, task, hx):
    client = auth.login(rep)
    form = client.get(f"/tasks/{task.id}/edit", headers=hx).data.decode()
    assert "<html" not in form and f'id="task-{task.id}"' in form
    assert f'id="task-{task.id}-title"' in form and 'value="Send the rate card"' in form
    assert 'name="version"' in form and "data-escape-cancels" in form
    resp = client.post(f"/tasks/{task.id}/edit", headers=hx, data=edit_data(
        task, title="Send the new rate card", due_on="2030-06-01", due_time="14:30",
        notes="The 2031 prices"))
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "taskChanged"
    body = resp.data.decode()
    assert "<html" not in body and "Send the new rate card" in body and "Saved." in body
    db.session.expire_all()
    assert (task.title, task.due_at, task.notes) == \
        ("Send the new rate card", datetime(2030, 6, 1, 14, 30), "The 2031 prices")
    [event] = audits(db, task, "update")
    assert event.actor_id == rep.id and event.changes["title"] == \
        ["Send the rate card", "Send the new rate card"]
    assert set(event.changes) == {"title", "due_at", "notes"}
    # Cancel brings the row back.
    row = client.get(f"/tasks/{task.id}", headers=hx).data.decode()
    assert "<html" not in row and "edit-link" in row and 'name="title"' not in row


def test_edit_without_javascript(auth, db, rep, contact, task):
    client = auth.login(rep)
    page = client.get(f"/tasks/{task.id}/edit?next=/contacts/{contact.id}").data.decode()
    assert "<html" in page and "Edit task" in page and f'value="/contacts/{contact.id}"' in page
    assert client.get(f"/tasks/{task.id}").status_code == 200       # the task's own page
    resp = client.post(f"/tasks/{task.id}/edit", data=edit_data(
        task, title="Call Liam", next=f"/contacts/{contact.id}"))
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/contacts/{contact.id}")
    evil = client.post(f"/tasks/{task.id}/edit", data=edit_data(
        task, title="Call Liam", next="https://evil.example/"))
    assert evil.status_code == 302 and evil.headers["Location"].endswith("/today")
    db.session.expire_all()
    assert task.title == "Call Liam"


@pytest.mark.parametrize("changes, message", [
    ({"title": "  "}, "Say what has to be done."),
    ({"due_on": ""}, "Choose a due date."),
    ({"due_on": "someday"}, "Not a valid date value."),
])
def test_edit_with_bad_input_changes_nothing(auth, db, rep, task, hx, changes, message):
    for headers in (hx, {}):
        resp = auth.login(rep).post(f"/tasks/{task.id}/edit", headers=headers,
                                    data=edit_data(task, **changes))
        assert resp.status_code == 200 and message in resp.data.decode()
        assert 'aria-invalid="true"' in resp.data.decode()
    db.session.expire_all()
    assert task.title == "Send the rate card" and task.version == 1
    assert not audits(db, task, "update")


def test_a_stale_edit_is_a_conflict_and_overwrites_nothing(auth, db, rep, task, hx):
    old_version = task.version
    services.update_task(rep, task, {"title": "Their title", "due_at": task.due_at},
                         expected_version=old_version)
    db.session.commit()
    for headers in (hx, {}):
        resp = auth.login(rep).post(f"/tasks/{task.id}/edit", headers=headers, data=edit_data(
            task, title="My title", version=old_version))
        body = resp.data.decode()
        assert resp.status_code == 409 and "changed by someone else" in body
        assert 'value="Their title"' in body               # the form shows the task as it is
        assert f'name="version" value="{task.version}"' in body
        if headers:
            assert "<html" not in body and resp.headers["HX-Retarget"] == f"#task-{task.id}"
    db.session.expire_all()
    assert task.title == "Their title"
    assert len(audits(db, task, "update")) == 1


def test_two_simultaneous_edits_one_wins_the_other_is_told(app, db, rep, task, live_server):
    db.session.commit()
    people = [Browser(app, live_server, rep) for _ in range(2)]
    url, forms = f"/tasks/{task.id}/edit", [edit_data(task, title=f"Title {n}") for n in (0, 1)]
    answers = at_once(*[lambda p=p, n=n: p.post(url, forms[n], htmx=True)
                        for n, p in enumerate(people)])
    assert sorted(status for status, _ in answers) == [200, 409]
    winner = next(n for n, (status, _) in enumerate(answers) if status == 200)
    db.session.expire_all()
    assert task.title == f"Title {winner}" and task.version == 2
    assert len(audits(db, task, "update")) == 1


# Reassigning ---------------------------------------------------------------------------------
def test_a_manager_reassigns_to_someone_who_may_see_the_contact(auth, db, manager, rep,
                                                                other_rep, task, hx):
    client = auth.login(manager)
    form = client.get(f"/tasks/{task.id}/edit", headers=hx).data.decode()
    assert rep.name in form and other_rep.name not in form     # they may not see Liam
    resp = client.post(f"/tasks/{task.id}/edit", headers=hx,
                       data=edit_data(task, assignee_id=other_rep.id))
    assert f"{other_rep.name} may not see Liam Okafor" in resp.data.decode()
    db.session.expire_all()
    assert task.assignee_id == rep.id
    client.post(f"/tasks/{task.id}/edit", headers=hx, data=edit_data(task, assignee_id=manager.id))
    db.session.expire_all()
    assert task.assignee_id == manager.id
    [event] = audits(db, task, "reassign")
    assert event.changes == {"assignee_id": [rep.id, manager.id]}
    assert event.summary == f"Task “Send the rate card” given to {manager.name}"
    assert not audits(db, task, "update")          # nothing else changed


def test_a_rep_cannot_give_a_task_to_someone_else(auth, db, rep, manager, task, hx):
    resp = auth.login(rep).post(f"/tasks/{task.id}/edit", headers=hx,
                                data=edit_data(task, assignee_id=manager.id))
    assert "Only managers can give tasks to someone else." in resp.data.decode()
    db.session.expire_all()
    assert task.assignee_id == rep.id and not audits(db, task, "reassign")


# Deleting ------------------------------------------------------------------------------------
def test_delete_in_place(auth, db, rep, contact, task, hx):
    client = auth.login(rep)
    resp = client.post(f"/tasks/{task.id}/delete", headers=hx, data={"version": task.version})
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "taskChanged"
    assert "Deleted “Send the rate card”" in resp.data.decode()
    db.session.expire_all()
    assert task.status == "deleted"
    [event] = audits(db, task, "delete")
    assert event.actor_id == rep.id and event.changes["title"] == "Send the rate card"
    assert client.get(f"/tasks/{task.id}/edit").status_code == 404
    assert client.post(f"/tasks/{task.id}/complete").status_code == 404
    page = client.get(f"/contacts/{contact.id}").data.decode()
    tasks_section = page[page.index(f'id="tasks-contact-{contact.id}"'):page.index('id="timeline"')]
    assert "Send the rate card" not in tasks_section          # the timeline says it was deleted
    assert "Task “Send the rate card” deleted" in \
        client.get(f"/contacts/{contact.id}/timeline").data.decode()
    assert "Send the rate card" not in client.get("/today").data.decode()


def test_a_stale_delete_is_a_conflict(auth, db, rep, task, hx):
    old = task.version
    services.snooze_task(rep, task, "1d")
    db.session.commit()
    resp = auth.login(rep).post(f"/tasks/{task.id}/delete", headers=hx, data={"version": old})
    assert resp.status_code == 409 and "changed by someone else" in resp.data.decode()
    db.session.expire_all()
    assert task.status == "open" and not audits(db, task, "delete")


def test_a_deleted_follow_up_is_not_created_again(auth, db, rep, contact, hx):
    now = utcnow()
    unanswered(contact, now - timedelta(days=4))
    assert create_follow_ups(now=now) == 1
    db.session.commit()
    follow_up = db.session.scalars(select(Task)).one()
    auth.login(rep).post(f"/tasks/{follow_up.id}/delete", headers=hx,
                         data={"version": follow_up.version})
    assert create_follow_ups(now=now + timedelta(hours=1)) == 0


def test_another_reps_task_cannot_be_edited_or_deleted(auth, db, rep, other_rep, hx):
    theirs = factories.TaskFactory(assignee_id=other_rep.id, contact_id=factories.ContactFactory(
        owner_id=other_rep.id).id)
    client = auth.login(rep)
    assert client.get(f"/tasks/{theirs.id}/edit", headers=hx).status_code == 404
    assert client.post(f"/tasks/{theirs.id}/edit", data=edit_data(theirs)).status_code == 404
    assert client.post(f"/tasks/{theirs.id}/delete").status_code == 404
    db.session.expire_all()
    assert theirs.status == "open" and theirs.version == 1


# Snoozing to a date ----------------------------------------------------------------------------
def test_snooze_to_a_chosen_date_keeps_the_local_time(auth, db, rep, task, hx):
    rep.timezone = "Europe/Berlin"
    task.due_at = from_local(datetime(2029, 1, 2, 8, 15), rep.timezone)
    db.session.commit()
    day = local(utcnow(), rep.timezone).date() + timedelta(days=9)
    resp = auth.login(rep).post(f"/tasks/{task.id}/snooze", headers=hx, data={
        "until": "date", "until_date": day.isoformat(), "version": task.version})
    assert resp.status_code == 200 and "Snoozed until" in resp.data.decode()
    db.session.expire_all()
    assert local(task.due_at, rep.timezone).replace(tzinfo=None) == \
        datetime.combine(day, datetime(2000, 1, 1, 8, 15).time())
    [event] = audits(db, task, "snooze")
    assert f"until {day:%a %d %b}" in event.summary


@pytest.mark.parametrize("value, message", [
    ("", "Snooze until: choose a date."),
    ("not-a-date", "Snooze until: choose a date."),
    ((date.today() - timedelta(days=2)).isoformat(),
     "Snooze until: that date is in the past; choose today or later."),
])
def test_snooze_to_a_bad_date_says_so_and_changes_nothing(auth, db, rep, task, hx, value, message):
    client = auth.login(rep)
    resp = client.post(f"/tasks/{task.id}/snooze", headers=hx,
                       data={"until": "date", "until_date": value, "version": task.version})
    body = resp.data.decode()
    assert resp.status_code == 200 and message in body
    assert "<details class=\"snooze-date\" open" in body and 'aria-invalid="true"' in body
    plain = client.post(f"/tasks/{task.id}/snooze", follow_redirects=True,
                        data={"until": "date", "until_date": value, "next": "/today"})
    assert message in plain.data.decode()
    db.session.expire_all()
    assert task.due_at == datetime(2030, 5, 4, 9, 0) and task.snooze_count == 0
    assert not audits(db, task, "snooze")


def test_snooze_to_today_at_a_time_already_gone_is_refused(db, rep, task):
    now = datetime(2030, 5, 4, 13, 0)
    with pytest.raises(services.ValidationFailed, match="09:00 today has passed"):
        services.snooze_task_until(rep, task, date(2030, 5, 4), now=now)
    assert services.snooze_task_until(rep, task, date(2030, 5, 5), now=now) == \
        datetime(2030, 5, 5, 9, 0)


def test_task_rows_offer_edit_and_a_date(auth, db, rep, contact, task):
    for url in ("/today?who=me", f"/contacts/{contact.id}"):
        if url.startswith("/today"):
            task.due_at = utcnow() + timedelta(days=2)
            db.session.commit()
        html = auth.login(rep).get(url).data.decode()
        row = html[html.index(f'id="task-{task.id}"'):]
        assert f'href="/tasks/{task.id}/edit?next=' in row and 'name="until_date"' in row
        assert 'type="date"' in row and 'min="' in row
