"""Owning a deal on someone else's contact is a key to the deal, not to the person: the deal
(board card, deal page) names the contact and shows nothing else of them — no link, handle,
last DM, consent, nor the tasks of others — and outreach to them is refused."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.conversations.models import Conversation
from crm.core.timeutil import utcnow
from crm.tasks.models import Task
from tests import factories
from tests.test_board import card, sales


@pytest.fixture
def setup(db, rep, other_rep):
    """Otto's client, with a deal Rae owns on it; Otto's own tasks on the client come first."""
    new = sales(db, "New")
    client = factories.ContactFactory(name="Otto's Client", owner_id=other_rep.id,
                                      consent_status="opted_out")
    factories.HandleFactory(contact=client, platform="instagram", handle="ottos.client")
    deal = factories.DealFactory(contact=client, stage=new, owner_id=rep.id, title="Shared deal",
                                 platform="instagram")
    db.session.add(Conversation(contact_id=client.id, platform="instagram", state="needs_reply",
                                last_message_at=utcnow(), last_inbound_at=utcnow()))
    soon = utcnow() + timedelta(hours=1)
    factories.TaskFactory(title="Otto's secret plan", contact_id=client.id, deal_id=deal.id,
                          assignee_id=other_rep.id, due_at=soon)
    factories.TaskFactory(title="Otto's reminder", contact_id=client.id,
                          assignee_id=other_rep.id, due_at=soon)
    factories.TaskFactory(title="Rae's own step", contact_id=client.id, deal_id=deal.id,
                          assignee_id=rep.id, due_at=soon + timedelta(days=1))
    db.session.commit()
    return client, deal, new


def _hides_the_person(html: str, client):
    assert "Otto&#39;s Client" in html                          # the name, as plain text
    assert f"/contacts/{client.id}" not in html                 # no link to a page that is 404
    assert "ottos.client" not in html                           # no handle
    assert "Needs reply" not in html and "they wrote" not in html   # no last DM
    assert "Opted out" not in html                              # no consent
    assert "Otto&#39;s secret plan" not in html and "Otto&#39;s reminder" not in html


def test_the_board_card_shows_only_what_the_deal_owner_may_see(auth, setup, rep):
    client, deal, new = setup
    board = auth.login(rep).get(f"/board?pipeline={new.pipeline_id}").get_data(as_text=True)
    shown = card(board, deal.id)
    _hides_the_person(shown, client)
    assert "Rae&#39;s own step" in shown
    assert auth.client.get(f"/contacts/{client.id}").status_code == 404


def test_the_card_a_move_answers_with_hides_them_too(auth, setup, rep, hx):
    client, deal, new = setup
    contacted = sales(None, "Contacted")
    resp = auth.login(rep).post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": contacted.id, "version": deal.version, "board": "1",
        "from_stage_id": new.id})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    moved = body[body.index(f'<div hx-swap-oob="afterbegin:#cards-{contacted.id}">'):]
    _hides_the_person(card(moved, deal.id), client)


def test_the_deal_page_names_the_contact_and_nothing_else(auth, setup, rep):
    client, deal, _ = setup
    page = auth.login(rep).get(f"/deals/{deal.id}").get_data(as_text=True)
    _hides_the_person(page, client)
    assert "Rae&#39;s own step" in page
    assert 'name="is_outreach"' not in page                     # the form offers no outreach


def test_no_outreach_task_on_a_contact_the_rep_cannot_see(auth, setup, rep, hx):
    client, deal, _ = setup
    before = auth.login(rep) and _count_tasks()
    resp = auth.client.post("/tasks/new", headers=hx, data={
        "title": "DM them the brief", "due_on": "2030-05-04", "due_time": "10:00",
        "assignee_id": rep.id, "deal_id": deal.id, "scope": "deal", "is_outreach": "y"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "<html" not in body
    assert "An outreach task needs a contact you can see" in body
    assert "opted out" not in body                               # their consent is not told
    assert _count_tasks() == before
    assert _refusals() == 0


def test_a_reminder_on_the_deal_is_fine_and_its_contacts_owner_sees_it(auth, setup, rep,
                                                                      other_rep, hx):
    client, deal, _ = setup
    resp = auth.login(rep).post("/tasks/new", headers=hx, data={
        "title": "Check the invoice", "due_on": "2030-05-04", "due_time": "10:00",
        "assignee_id": rep.id, "deal_id": deal.id, "scope": "deal"})
    assert resp.status_code == 200 and "Check the invoice" in resp.get_data(as_text=True)
    task = _task("Check the invoice")
    assert (task.contact_id, task.deal_id, task.is_outreach) == (client.id, deal.id, False)
    page = auth.login(other_rep).get(f"/contacts/{client.id}").get_data(as_text=True)
    assert "Check the invoice" in page


def test_a_manager_sees_all_of_it(auth, setup, manager):
    client, deal, new = setup
    board = auth.login(manager).get(f"/board?pipeline={new.pipeline_id}").get_data(as_text=True)
    shown = card(board, deal.id)
    assert f"/contacts/{client.id}" in shown and "Otto&#39;s secret plan" in shown
    page = auth.client.get(f"/deals/{deal.id}").get_data(as_text=True)
    assert f"/contacts/{client.id}" in page and 'name="is_outreach"' in page


def _count_tasks() -> int:
    from crm.extensions import db
    return db.session.scalar(select(func.count()).select_from(Task))


def _refusals() -> int:
    from crm.extensions import db
    return db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "outreach_refused"))


def _task(title: str) -> Task:
    from crm.extensions import db
    db.session.expire_all()
    return db.session.scalars(select(Task).where(Task.title == title)).one()
