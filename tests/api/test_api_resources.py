"""Every resource for each role: what the pages show a user, the API shows them (a rep's
own and unowned contacts, a manager everything); out of scope answers 404; writes go through
the services (versions, consent)."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.contacts import consent
from crm.contacts.models import ConsentEvent, Contact
from crm.conversations import services as conversations
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.pipeline.models import Stage, StageChange
from crm.tasks.models import Task
from tests import factories


@pytest.fixture
def world(rep, other_rep):
    """A contact of the rep's, one of another rep's, and an unowned one, each with a
    conversation, a deal and a task."""
    mine = factories.ContactFactory(name="Maya Mine", owner_id=rep.id)
    theirs = factories.ContactFactory(name="Theo Theirs", owner_id=other_rep.id)
    nobody = factories.ContactFactory(name="Nora Nobody", owner_id=None)
    out = {}
    for key, contact, user in (("mine", mine, rep), ("theirs", theirs, other_rep),
                               ("nobody", nobody, rep)):
        factories.HandleFactory(contact=contact, platform="instagram",
                                handle=contact.name.split()[0].lower())
        msg = conversations.log_message(user, contact, platform="instagram", direction="in",
                                        body=f"Hello from {contact.name}",
                                        sent_at=utcnow() - timedelta(hours=2))
        deal = factories.DealFactory(contact=contact, owner_id=contact.owner_id)
        task = factories.TaskFactory(contact_id=contact.id, assignee_id=contact.owner_id,
                                     due_at=utcnow())
        out[key] = {"contact": contact.id, "conversation": msg.conversation_id,
                    "deal": deal.id, "task": task.id, "stage": deal.stage_id}
    out["campaign"] = factories.CampaignFactory().id
    db.session.commit()
    return out


def _names(resp):
    assert resp.status_code == 200, resp.json
    return sorted(row["name"] for row in resp.json["data"])


@pytest.mark.parametrize("role", ["rep", "manager", "admin"])
def test_each_record_is_in_scope_or_404_as_on_the_pages(role, request, world, api_as):
    user = request.getfixturevalue({"rep": "rep", "manager": "manager", "admin": "admin"}[role])
    api = api_as(user)
    sees_all = role != "rep"
    expected = ["Maya Mine", "Nora Nobody"] + (["Theo Theirs"] if sees_all else [])
    assert _names(api.get("/api/v1/contacts")) == sorted(expected)
    for key in ("mine", "nobody", "theirs"):
        visible = key != "theirs" or sees_all
        ids = world[key]
        for url in (f"/api/v1/contacts/{ids['contact']}",
                    f"/api/v1/contacts/{ids['contact']}/conversations",
                    f"/api/v1/contacts/{ids['contact']}/consent-events",
                    f"/api/v1/conversations/{ids['conversation']}",
                    f"/api/v1/conversations/{ids['conversation']}/messages",
                    f"/api/v1/deals/{ids['deal']}",
                    f"/api/v1/tasks/{ids['task']}"):
            resp = api.get(url)
            assert resp.status_code == (200 if visible else 404), (role, url, resp.json)
            if not visible:
                assert resp.mimetype == "application/problem+json"
        # Writes to a record out of scope are 404 too, and change nothing.
        resp = api.post(f"/api/v1/contacts/{ids['contact']}/consent",
                        json={"do_not_contact": True})
        assert resp.status_code == (200 if visible else 404)
    inbox = api.get("/api/v1/conversations").json["data"]
    assert len(inbox) == (3 if sees_all else 2)
    deals = api.get(f"/api/v1/deals?stage={world['mine']['stage']}").json["data"]
    assert len(deals) == (3 if sees_all else 2)
    assert api.get(f"/api/v1/campaigns/{world['campaign']}").status_code == 200
    assert [c["id"] for c in api.get("/api/v1/campaigns").json["data"]] == [world["campaign"]]
    pipelines = api.get("/api/v1/pipelines").json["data"]
    assert pipelines and all(p["stages"] for p in pipelines)
    assert user.name in [u["name"] for u in api.get("/api/v1/users").json["data"]]
    assert api.get("/api/v1/users/me").json["role"] == role


def test_contact_detail_and_filters(world, rep, api_as):
    api = api_as(rep)
    one = api.get(f"/api/v1/contacts/{world['mine']['contact']}").json
    assert one["name"] == "Maya Mine" and one["handles"][0]["handle"] == "maya"
    assert one["consent_status"] == "unknown" and one["may_contact"] is True
    assert one["created_at"].endswith("Z") or one["created_at"].endswith("+00:00")
    assert _names(api.get("/api/v1/contacts?owner=me")) == ["Maya Mine"]
    assert _names(api.get("/api/v1/contacts?owner=none")) == ["Nora Nobody"]
    assert _names(api.get("/api/v1/contacts?q=nora")) == ["Nora Nobody"]
    assert _names(api.get("/api/v1/contacts?consent=opted_out")) == []


def test_create_and_edit_a_contact_through_the_services(rep, api_as):
    api = api_as(rep)
    resp = api.post("/api/v1/contacts", json={
        "name": "Ana Lima", "kind": "influencer", "tags": ["Skincare"],
        "handles": [{"platform": "instagram", "handle": "@ana.lima", "followers": 1200}]})
    assert resp.status_code == 201, resp.json
    made = resp.json
    assert made["owner_id"] == rep.id and made["handles"][0]["handle"] == "ana.lima"
    assert resp.headers["Location"].endswith(f"/api/v1/contacts/{made['id']}")
    resp = api.patch(f"/api/v1/contacts/{made['id']}",
                     json={"company": "Glow", "version": made["version"]})
    assert resp.status_code == 200 and resp.json["company"] == "Glow"
    stale = api.patch(f"/api/v1/contacts/{made['id']}",
                      json={"company": "Other", "version": made["version"]})
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert db.session.get(Contact, made["id"]).company == "Glow"
    # Consent is read-only here: only its own endpoint changes it.
    refused = api.patch(f"/api/v1/contacts/{made['id']}", json={"consent_status": "opted_in"})
    assert refused.status_code == 422
    assert refused.json["errors"][0]["field"] == "consent_status"
    # The same handle on another contact is refused, naming the field.
    dup = api.post("/api/v1/contacts", json={
        "name": "Ana Again", "handles": [{"platform": "instagram", "handle": "ana.lima"}]})
    assert dup.status_code == 422 and db.session.scalar(
        select(func.count()).select_from(Contact)) == 1


def test_consent_has_its_own_endpoint_that_records_an_event(world, rep, api_as):
    api = api_as(rep)
    cid = world["mine"]["contact"]
    resp = api.post(f"/api/v1/contacts/{cid}/consent",
                    json={"status": "opted_out", "source": "Said stop in a DM"})
    assert resp.status_code == 200 and resp.json["may_contact"] is False
    event = db.session.scalar(select(ConsentEvent).where(ConsentEvent.contact_id == cid))
    assert (event.from_status, event.to_status, event.actor_id) == ("unknown", "opted_out",
                                                                    rep.id)
    assert event.source == "Said stop in a DM"
    # Opted-out: opting in again needs their word.
    again = api.post(f"/api/v1/contacts/{cid}/consent", json={"status": "opted_in"})
    assert again.status_code == 422 and again.json["errors"][0]["field"] == "source"
    history = api.get(f"/api/v1/contacts/{cid}/consent-events").json["data"]
    assert [e["to_status"] for e in history] == ["opted_out"]
    assert api.post(f"/api/v1/contacts/{cid}/consent", json={}).status_code == 422


def test_a_deal_moves_with_its_version_and_a_stale_move_is_a_conflict(world, rep, api_as):
    api = api_as(rep)
    deal = api.get(f"/api/v1/deals/{world['mine']['deal']}").json
    stages = db.session.scalars(select(Stage).where(Stage.pipeline_id == deal["pipeline_id"],
                                                    Stage.outcome == "open")
                                .order_by(Stage.position)).all()
    target = stages[1].id
    moved = api.post(f"/api/v1/deals/{deal['id']}/move",
                     json={"stage_id": target, "version": deal["version"]})
    assert moved.status_code == 200 and moved.json["stage_id"] == target
    assert moved.json["version"] == deal["version"] + 1
    stale = api.post(f"/api/v1/deals/{deal['id']}/move",
                     json={"stage_id": stages[0].id, "version": deal["version"]})
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert api.get(f"/api/v1/deals/{deal['id']}").json["stage_id"] == target
    assert db.session.scalar(select(func.count()).select_from(StageChange)) == 1
    missing = api.post(f"/api/v1/deals/{deal['id']}/move", json={"stage_id": target})
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "version"


def test_tasks_list_make_and_complete(world, rep, api_as):
    api = api_as(rep)
    today = api.get("/api/v1/tasks?section=today").json["data"]
    assert [t["id"] for t in today] == [world["mine"]["task"]]
    resp = api.post("/api/v1/tasks", json={"title": "Send the brief",
                                           "due_at": "2030-01-02T09:00:00Z",
                                           "contact_id": world["mine"]["contact"]})
    assert resp.status_code == 201, resp.json
    task = resp.json
    assert task["due_at"].startswith("2030-01-02T09:00:00") and task["assignee_id"] == rep.id
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"version": task["version"]})
    assert done.status_code == 200 and done.json["status"] == "done"
    stale = api.post(f"/api/v1/tasks/{world['mine']['task']}/complete", json={"version": 99})
    assert stale.status_code == 409
    hidden = api.post("/api/v1/tasks", json={"title": "Peek", "due_at": "2030-01-02T09:00:00Z",
                                             "contact_id": world["theirs"]["contact"]})
    assert hidden.status_code == 422 and hidden.json["errors"][0]["field"] == "contact_id"


def test_an_outreach_task_for_someone_opted_out_is_refused(world, rep, api_as):
    contact = db.session.get(Contact, world["mine"]["contact"])
    consent.change_consent(None, contact, status="opted_out", source="DM")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Task))
    resp = api_as(rep).post("/api/v1/tasks", json={
        "title": "DM her", "due_at": "2030-01-02T09:00:00Z", "contact_id": contact.id,
        "is_outreach": True})
    assert resp.status_code == 409 and "opted out" in resp.json["detail"]
    assert db.session.scalar(select(func.count()).select_from(Task)) == before


def test_a_reps_view_of_tasks_and_managers_who(world, rep, manager, api_as):
    assert api_as(rep).get("/api/v1/tasks?who=all").status_code == 200
    everyone = api_as(manager).get("/api/v1/tasks?section=today&who=all").json["data"]
    assert len(everyone) == 3     # the unowned contact's task (no assignee) included
    unassigned = api_as(manager).get("/api/v1/tasks?section=today&who=none").json["data"]
    assert [t["id"] for t in unassigned] == [world["nobody"]["task"]]


def test_open_and_edit_a_deal(world, rep, api_as):
    api = api_as(rep)
    made = api.post("/api/v1/deals", json={"contact_id": world["mine"]["contact"],
                                           "title": "Spring collab", "value_minor": 50000,
                                           "expected_close_on": "2030-03-01"})
    assert made.status_code == 201, made.json
    deal = made.json
    assert deal["owner_id"] == rep.id and deal["expected_close_on"] == "2030-03-01"
    edited = api.patch(f"/api/v1/deals/{deal['id']}", json={"next_step": "Send brief",
                                                            "version": deal["version"]})
    assert edited.status_code == 200 and edited.json["next_step"] == "Send brief"
    stale = api.patch(f"/api/v1/deals/{deal['id']}", json={"title": "Other",
                                                           "version": deal["version"]})
    assert stale.status_code == 409
    hidden = api.post("/api/v1/deals", json={"contact_id": world["theirs"]["contact"],
                                             "title": "Peek"})
    assert hidden.status_code == 422 and hidden.json["errors"][0]["field"] == "contact_id"
    assert api.patch(f"/api/v1/deals/{world['theirs']['deal']}",
                     json={"title": "x", "version": 1}).status_code == 404


def test_campaigns_refuse_someone_who_opted_out_through_the_api(world, rep, api_as):
    from crm.audit.models import AuditEvent
    from crm.pipeline.models import Deal

    contact = db.session.get(Contact, world["mine"]["contact"])
    api = api_as(rep)
    added = api.post(f"/api/v1/campaigns/{world['campaign']}/people",
                     json={"contact_id": world["nobody"]["contact"]})
    assert added.status_code == 201 and added.json["campaign_id"] == world["campaign"]
    consent.change_consent(None, contact, status="opted_out", source="DM")
    db.session.commit()
    deals = db.session.scalar(select(func.count()).select_from(Deal))
    refused = api.post(f"/api/v1/campaigns/{world['campaign']}/people",
                       json={"contact_id": contact.id})
    assert refused.status_code == 409 and refused.mimetype == "application/problem+json"
    assert "opted out" in refused.json["detail"]
    assert db.session.scalar(select(func.count()).select_from(Deal)) == deals
    assert db.session.scalar(select(AuditEvent.contact_id).where(
        AuditEvent.action == "outreach_refused")) == contact.id
    campaign_deal = api.post("/api/v1/deals", json={"contact_id": contact.id, "title": "x",
                                                    "campaign_id": world["campaign"]})
    assert campaign_deal.status_code == 409


def test_handles_are_added_and_removed(world, rep, api_as):
    api = api_as(rep)
    cid = world["mine"]["contact"]
    added = api.post(f"/api/v1/contacts/{cid}/handles",
                     json={"platform": "tiktok", "handle": "https://www.tiktok.com/@maya.m"})
    assert added.status_code == 201 and added.json["handle"] == "maya.m"
    taken = api.post(f"/api/v1/contacts/{world['nobody']['contact']}/handles",
                     json={"platform": "tiktok", "handle": "maya.m"})
    assert taken.status_code == 422 and taken.json["errors"][0]["field"] == "handle"
    gone = api.client.delete(f"/api/v1/contacts/{cid}/handles/{added.json['id']}",
                             headers=api.headers)
    assert gone.status_code == 204
    handles = api.get(f"/api/v1/contacts/{cid}").json["handles"]
    assert [h["platform"] for h in handles] == ["instagram"]
    theirs = world["theirs"]["contact"]
    assert api.post(f"/api/v1/contacts/{theirs}/handles",
                    json={"platform": "x", "handle": "peek"}).status_code == 404
