"""/admin/pipelines: add, rename, reorder, retire and delete stages; follow-up days; lost
reasons. A stage that holds deals (or appears in their history) is never deleted."""
from sqlalchemy import select

from crm.pipeline import services
from crm.pipeline.models import LostReason, Pipeline, Stage
from tests import factories


def sales():
    factories.default_stage()
    from crm.extensions import db
    return db.session.scalars(select(Pipeline).where(Pipeline.name == "Sales")).one()


def names(db, pipeline):
    db.session.expire_all()
    return [s.name for s in db.session.get(Pipeline, pipeline.id).stages]


def test_only_admins_reach_pipeline_admin(auth, manager, rep, admin):
    sales()   # the ready-made pipelines, as the migrations leave a workspace
    for user in (manager, rep):
        assert auth.login(user).get("/admin/pipelines").status_code == 404
    page = auth.login(admin).get("/admin/pipelines")
    assert page.status_code == 200 and b"Stages of Influencer collaborations" in page.data


def test_non_admin_cannot_post_stage_changes(auth, db, manager):
    pipeline = sales()
    resp = auth.login(manager).post(f"/admin/pipelines/{pipeline.id}/stages",
                                    data={"name": "Demo booked", "outcome": "open"})
    assert resp.status_code == 404
    assert "Demo booked" not in names(db, pipeline)


def test_add_rename_and_reorder_stages_with_htmx(auth, db, admin, hx):
    pipeline = sales()
    client = auth.login(admin)
    added = client.post(f"/admin/pipelines/{pipeline.id}/stages", headers=hx,
                        data={"name": "Demo booked", "outcome": "open"})
    assert added.status_code == 200 and b"<html" not in added.data
    assert b'id="stages"' in added.data
    # An open stage goes after the other open ones, before Won and Lost.
    assert names(db, pipeline) == ["New", "Contacted", "Replied", "Qualified", "Proposal",
                                   "Demo booked", "Won", "Lost"]
    demo = db.session.scalars(select(Stage).where(Stage.name == "Demo booked")).one()
    client.post(f"/admin/stages/{demo.id}/up", headers=hx)
    client.post(f"/admin/stages/{demo.id}/rename", data={"name": "Demo held"}, headers=hx)
    assert names(db, pipeline)[4:6] == ["Demo held", "Proposal"]
    board = client.get(f"/board?pipeline={pipeline.id}").data.decode()
    assert board.index("Qualified") < board.index("Demo held") < board.index("Proposal")


def test_duplicate_or_empty_stage_names_are_refused(auth, db, admin, hx):
    pipeline = sales()
    client = auth.login(admin)
    dup = client.post(f"/admin/pipelines/{pipeline.id}/stages", headers=hx,
                      data={"name": "qualified", "outcome": "open"})
    assert b"already has a stage called Qualified" in dup.data
    empty = client.post(f"/admin/pipelines/{pipeline.id}/stages", headers=hx,
                        data={"name": " ", "outcome": "open"})
    assert b"Give it a name." in empty.data
    assert len(names(db, pipeline)) == 7


def test_stage_with_deals_can_only_be_retired(auth, db, admin, rep):
    pipeline = sales()
    qualified = next(s for s in pipeline.stages if s.name == "Qualified")
    factories.DealFactory(stage=qualified, contact=factories.ContactFactory(owner_id=rep.id))
    client = auth.login(admin)
    resp = client.post(f"/admin/stages/{qualified.id}/delete", follow_redirects=True)
    assert "holds 1 deal: retire it instead" in resp.data.decode()
    assert "Qualified" in names(db, pipeline)
    client.post(f"/admin/stages/{qualified.id}/retire")
    db.session.expire_all()
    assert db.session.get(Stage, qualified.id).retired_at is not None
    client.post(f"/admin/stages/{qualified.id}/unretire")
    db.session.expire_all()
    assert db.session.get(Stage, qualified.id).retired_at is None


def test_stage_in_history_cannot_be_deleted(auth, db, admin, rep):
    pipeline = sales()
    contacted = next(s for s in pipeline.stages if s.name == "Contacted")
    replied = next(s for s in pipeline.stages if s.name == "Replied")
    deal = factories.DealFactory(stage=contacted, contact=factories.ContactFactory(owner_id=rep.id))
    services.move_deal(rep, deal, replied.id)
    db.session.commit()
    resp = auth.login(admin).post(f"/admin/stages/{contacted.id}/delete", follow_redirects=True)
    assert "Deals have been through “Contacted”" in resp.data.decode()
    assert "Contacted" in names(db, pipeline)


def test_unused_stage_can_be_deleted(auth, db, admin, hx):
    pipeline = sales()
    client = auth.login(admin)
    client.post(f"/admin/pipelines/{pipeline.id}/stages", data={"name": "Typo", "outcome": "open"})
    typo = db.session.scalars(select(Stage).where(Stage.name == "Typo")).one()
    resp = client.post(f"/admin/stages/{typo.id}/delete", headers=hx)
    assert resp.status_code == 200 and b"Typo" not in resp.data
    assert "Typo" not in names(db, pipeline)
    positions = [s.position for s in db.session.get(Pipeline, pipeline.id).stages]
    assert positions == list(range(len(positions)))


def test_last_lost_stage_cannot_be_retired(auth, db, admin):
    pipeline = sales()
    lost = next(s for s in pipeline.stages if s.outcome == "lost")
    resp = auth.login(admin).post(f"/admin/stages/{lost.id}/retire", follow_redirects=True)
    assert "the only lost stage" in resp.data.decode()
    db.session.expire_all()
    assert db.session.get(Stage, lost.id).retired_at is None


def test_follow_up_days(auth, db, admin):
    pipeline = sales()
    client = auth.login(admin)
    bad = client.post(f"/admin/pipelines/{pipeline.id}/follow-up", data={"follow_up_days": "0"},
                      follow_redirects=True)
    assert "between 1 and 90" in bad.data.decode()
    client.post(f"/admin/pipelines/{pipeline.id}/follow-up", data={"follow_up_days": "5"})
    db.session.expire_all()
    assert db.session.get(Pipeline, pipeline.id).follow_up_days == 5


def test_lost_reasons_are_editable_and_retired_ones_not_offered(auth, db, admin, rep, hx):
    sales()
    client = auth.login(admin)
    client.post("/admin/lost-reasons", data={"name": "Exclusive with a competitor"})
    reason = db.session.scalars(select(LostReason).where(
        LostReason.name == "Exclusive with a competitor")).one()
    client.post(f"/admin/lost-reasons/{reason.id}/rename", data={"name": "Exclusive deal elsewhere"})
    dup = client.post("/admin/lost-reasons", data={"name": "no budget"}, follow_redirects=True)
    assert "is already in the list" in dup.data.decode()
    no_reply = db.session.scalars(select(LostReason).where(LostReason.name == "No reply")).one()
    client.post(f"/admin/lost-reasons/{no_reply.id}/retire")
    deal = factories.DealFactory(contact=factories.ContactFactory(owner_id=rep.id))
    lost = factories.default_stage("Sales", 6)
    prompt = auth.login(rep).post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": lost.id, "version": deal.version, "board": "1"}).data.decode()
    assert "Exclusive deal elsewhere" in prompt and ">No reply<" not in prompt
    try_retired = auth.client.post(f"/deals/{deal.id}/move", headers=hx, data={
        "stage_id": lost.id, "version": deal.version, "board": "1", "prompt": "1",
        "lost_reason_id": no_reply.id}).data.decode()
    assert "Choose a reason from the list." in try_retired


def test_admin_creates_a_pipeline(auth, db, admin):
    resp = auth.login(admin).post("/admin/pipelines/new", data={"name": "Partnerships",
                                                                "kind": "sales"})
    assert resp.status_code == 302
    created = db.session.scalars(select(Pipeline).where(Pipeline.name == "Partnerships")).one()
    assert [(s.name, s.outcome) for s in created.stages] == [("New", "open"), ("Won", "won"),
                                                             ("Lost", "lost")]
