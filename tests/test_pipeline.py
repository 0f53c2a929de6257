"""Deals: ready-made pipelines, stage moves and their history, closing won/lost, reopening,
editing, optimistic locking and permissions."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.audit.models import AuditEvent
from crm.contacts.consent import change_consent
from crm.core.errors import Conflict, ValidationFailed
from crm.core.timeutil import utcnow
from crm.pipeline import services
from crm.pipeline.defaults import DEFAULT_PIPELINES, ensure_default_pipelines
from crm.pipeline.models import Deal, LostReason, Pipeline, Stage, StageChange
from tests import factories
from tests.conftest import Auth


def stage(pipeline: str, name: str) -> Stage:
    ensure_default_pipelines()
    return (select(Stage).join(Pipeline)
            .where(Pipeline.name == pipeline, Stage.name == name))


def get_stage(db, pipeline, name) -> Stage:
    return db.session.scalars(stage(pipeline, name)).one()


def reason(db, name="No budget") -> LostReason:
    return db.session.scalars(select(LostReason).where(LostReason.name == name)).one()


def changes(db, deal) -> list[StageChange]:
    return db.session.scalars(select(StageChange).where(StageChange.deal_id == deal.id)
                              .order_by(StageChange.at, StageChange.id)).all()


@pytest.fixture
def deal(db, rep):
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id, kind="influencer")
    factories.HandleFactory(contact=contact, handle="maya.chen")
    d = services.create_deal(rep, contact, {"title": "Spring reel", "value_minor": 150_000},
                             stage_id=get_stage(db, "Influencer collaborations", "Prospect").id)
    db.session.commit()
    return d


# Ready-made pipelines ----------------------------------------------------------------------
def test_default_pipelines_are_created_once(db):
    assert ensure_default_pipelines() == 2
    assert ensure_default_pipelines() == 0
    db.session.commit()
    pipelines = db.session.scalars(select(Pipeline).order_by(Pipeline.position)).all()
    assert [p.name for p in pipelines] == [name for name, _, _ in DEFAULT_PIPELINES]
    influencer = pipelines[0]
    assert influencer.kind == "influencer" and influencer.follow_up_days == 3
    assert [(s.name, s.outcome) for s in influencer.stages] == DEFAULT_PIPELINES[0][2]
    assert [s.name for s in pipelines[1].stages] == ["New", "Contacted", "Replied", "Qualified",
                                                     "Proposal", "Won", "Lost"]
    count = db.session.scalar(select(func.count()).select_from(LostReason))
    assert count >= 5
    ensure_default_pipelines()
    assert db.session.scalar(select(func.count()).select_from(LostReason)) == count


def test_cli_ensures_defaults(app, db):
    result = app.test_cli_runner().invoke(args=["pipelines", "ensure-defaults"])
    assert result.exit_code == 0, result.output
    assert "2 pipelines created" in result.output
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Pipeline)) == 2
    again = app.test_cli_runner().invoke(args=["pipelines", "ensure-defaults"])
    assert "0 pipelines created" in again.output


# Creating deals ----------------------------------------------------------------------------
def test_create_deal_opens_history_and_defaults(db, deal, rep):
    assert deal.owner_id == rep.id
    assert deal.platform == "instagram"
    assert deal.outcome == "open" and deal.stage.name == "Prospect"
    history = changes(db, deal)
    assert len(history) == 1 and history[0].from_stage_id is None
    assert history[0].to_stage_id == deal.stage_id and history[0].actor_id == rep.id
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "deal",
                                                      AuditEvent.action == "create"))


def test_new_deal_form_creates_a_deal(auth, rep, db):
    contact = factories.ContactFactory(owner_id=rep.id, kind="lead")
    first = get_stage(db, "Sales", "New")
    client = auth.login(rep)
    page = client.get(f"/deals/new?contact_id={contact.id}")
    assert page.status_code == 200 and b"New deal for" in page.data
    resp = client.post("/deals/new", data={
        "contact_id": contact.id, "title": "Annual plan", "stage_id": first.id,
        "value_minor": "12,500.50", "currency": "EUR", "next_step": "Send proposal"})
    assert resp.status_code == 302
    created = db.session.scalars(select(Deal)).one()
    assert (created.title, created.value_minor, created.currency) == ("Annual plan", 1_250_050,
                                                                      "EUR")
    assert resp.headers["Location"].endswith(f"/deals/{created.id}")


@pytest.mark.parametrize("data, field_message", [
    ({"title": ""}, b"Give the deal a title."),
    ({"title": "X", "value_minor": "lots"}, b"Enter an amount such as 1500"),
    ({"title": "X", "value_minor": "-5"}, b"Amount cannot be negative."),
    ({"title": "X", "expected_close_on": "31/02/2026"}, b"Not a valid date value."),
])
def test_new_deal_bad_input_writes_nothing(auth, rep, db, data, field_message):
    contact = factories.ContactFactory(owner_id=rep.id)
    first = get_stage(db, "Sales", "New")
    resp = auth.login(rep).post("/deals/new", data={"contact_id": contact.id,
                                                    "stage_id": first.id, **data})
    assert resp.status_code == 200
    assert field_message in resp.data
    assert db.session.scalar(select(func.count()).select_from(Deal)) == 0


def test_new_deal_cannot_start_closed(db, rep):
    contact = factories.ContactFactory(owner_id=rep.id)
    with pytest.raises(ValidationFailed) as e:
        services.create_deal(rep, contact, {"title": "X"}, stage_id=get_stage(db, "Sales", "Won").id)
    assert e.value.field == "stage_id"


def test_rep_cannot_give_a_deal_to_someone_else(db, rep, other_rep):
    ensure_default_pipelines()   # as the migrations leave a workspace
    contact = factories.ContactFactory(owner_id=rep.id)
    with pytest.raises(ValidationFailed) as e:
        services.create_deal(rep, contact, {"title": "X", "owner_id": other_rep.id})
    assert e.value.field == "owner_id"


# Stage moves, time in stage, history --------------------------------------------------------
def test_moves_keep_history_and_time_in_stage(db, deal, manager):
    t0 = deal.stage_entered_at
    pitched = get_stage(db, "Influencer collaborations", "Pitched")
    replied = get_stage(db, "Influencer collaborations", "Replied")
    assert services.move_deal(manager, deal, pitched.id, now=t0 + timedelta(days=2))
    assert services.move_deal(manager, deal, replied.id, now=t0 + timedelta(days=5, hours=6))
    assert not services.move_deal(manager, deal, replied.id)   # already there
    db.session.commit()
    history = changes(db, deal)
    assert [(h.from_stage.name if h.from_stage else None, h.to_stage.name) for h in history] == [
        (None, "Prospect"), ("Prospect", "Pitched"), ("Pitched", "Replied")]
    assert history[1].seconds_in_from_stage == 2 * 86400
    assert history[2].seconds_in_from_stage == 3 * 86400 + 6 * 3600
    assert history[2].actor_id == manager.id
    assert deal.stage_entered_at == t0 + timedelta(days=5, hours=6)
    per_stage = dict((s.name, sec) for s, sec in services.time_per_stage(
        deal, history, now=t0 + timedelta(days=6, hours=6)))
    assert per_stage == {"Prospect": 2 * 86400, "Pitched": 3 * 86400 + 6 * 3600,
                         "Replied": 86400}


def test_deal_page_shows_history(auth, db, deal, rep):
    services.move_deal(rep, deal, get_stage(db, "Influencer collaborations", "Pitched").id)
    db.session.commit()
    resp = auth.login(rep).get(f"/deals/{deal.id}")
    assert resp.status_code == 200
    assert b"Stage history" in resp.data and "Prospect → <strong>Pitched".encode() in resp.data
    assert b"Rae Rep" in resp.data


def test_move_refuses_retired_and_foreign_stages(db, deal, rep):
    retired = get_stage(db, "Influencer collaborations", "Negotiating")
    retired.retired_at = utcnow()
    with pytest.raises(ValidationFailed, match="retired"):
        services.move_deal(rep, deal, retired.id)
    with pytest.raises(ValidationFailed, match="this deal's pipeline"):
        services.move_deal(rep, deal, get_stage(db, "Sales", "Qualified").id)
    assert len(changes(db, deal)) == 1


# Closing: lost needs a reason ---------------------------------------------------------------
def test_lost_needs_a_reason_and_nothing_is_written(db, deal, rep):
    declined = get_stage(db, "Influencer collaborations", "Declined")
    with pytest.raises(services.LostReasonRequired):
        services.move_deal(rep, deal, declined.id)
    db.session.rollback()
    assert deal.outcome == "open" and deal.stage.name == "Prospect"
    assert len(changes(db, deal)) == 1
    with pytest.raises(ValidationFailed) as e:
        services.move_deal(rep, deal, declined.id, lost_reason_id=reason(db, "Other").id)
    assert e.value.field == "lost_note"


def test_lost_reason_required_over_http(auth, db, deal, rep):
    declined = get_stage(db, "Influencer collaborations", "Declined")
    client = auth.login(rep)
    prompt = client.post(f"/deals/{deal.id}/move", data={"stage_id": declined.id,
                                                         "version": deal.version})
    assert prompt.status_code == 200
    assert b"Why was it lost?" in prompt.data and b"<html" in prompt.data
    again = client.post(f"/deals/{deal.id}/move", data={"stage_id": declined.id, "prompt": "1",
                                                        "version": deal.version})
    assert b"Choose why the deal was lost." in again.data
    db.session.expire_all()
    assert deal.outcome == "open" and len(changes(db, deal)) == 1
    done = client.post(f"/deals/{deal.id}/move", data={
        "stage_id": declined.id, "version": deal.version, "lost_reason_id": reason(db).id,
        "lost_note": "Budget moved to Q4"})
    assert done.status_code == 302
    db.session.expire_all()
    assert (deal.outcome, deal.lost_reason.name, deal.lost_note) == ("lost", "No budget",
                                                                     "Budget moved to Q4")
    assert deal.closed_at is not None


def test_lost_reason_required_over_htmx(auth, db, deal, rep, hx):
    declined = get_stage(db, "Influencer collaborations", "Declined")
    client = auth.login(rep)
    form = {"stage_id": declined.id, "version": deal.version, "board": "1",
            "from_stage_id": deal.stage_id}
    prompt = client.post(f"/deals/{deal.id}/move", data=form, headers=hx)
    assert prompt.status_code == 200
    html = prompt.data.decode()
    assert "<html" not in html
    assert '<dialog class="modal" id="lost-dialog"' in html and 'name="lost_reason_id"' in html
    assert f'id="col-{deal.stage_id}"' in html and 'hx-swap-oob="true"' in html
    assert "dealMoved" not in prompt.headers.get("HX-Trigger", "")
    missing = client.post(f"/deals/{deal.id}/move", data={**form, "prompt": "1"}, headers=hx)
    assert "Choose why the deal was lost." in missing.data.decode()
    db.session.expire_all()
    assert deal.outcome == "open"
    done = client.post(f"/deals/{deal.id}/move", headers=hx,
                       data={**form, "prompt": "1", "lost_reason_id": reason(db).id})
    assert done.headers["HX-Trigger"] == "dealMoved"
    body = done.data.decode()
    assert "<html" not in body and "marked lost (No budget)" in body
    assert '<div id="board-dialog" hx-swap-oob="true"></div>' in body
    db.session.expire_all()
    assert deal.outcome == "lost"


def test_reopening_a_lost_deal_clears_the_outcome(db, deal, rep):
    declined = get_stage(db, "Influencer collaborations", "Declined")
    services.move_deal(rep, deal, declined.id, lost_reason_id=reason(db).id, lost_note="x")
    db.session.commit()
    assert deal.closed_at is not None
    services.move_deal(rep, deal, get_stage(db, "Influencer collaborations", "Negotiating").id)
    db.session.commit()
    assert (deal.outcome, deal.closed_at, deal.lost_reason_id, deal.lost_note) == (
        "open", None, None, None)
    assert [h.to_stage.name for h in changes(db, deal)] == ["Prospect", "Declined", "Negotiating"]


def test_close_won_with_deliverables_and_results(auth, db, deal, rep):
    resp = auth.login(rep).post(f"/deals/{deal.id}/close", data={
        "outcome": "won", "version": deal.version, "post_type": "Instagram Reel",
        "posted_url": "https://instagram.com/p/abc", "posted_on": "2026-03-02",
        "reach": "48000", "clicks": "1200", "conversions": "85", "revenue_minor": "4,250"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert deal.outcome == "won" and deal.stage.name == "Completed"
    assert (deal.reach, deal.clicks, deal.conversions, deal.revenue_minor) == (48000, 1200, 85,
                                                                               425_000)
    page = auth.client.get(f"/deals/{deal.id}")
    assert b"48,000" in page.data and b"Instagram Reel" in page.data


def test_close_with_a_bad_url_names_the_field(auth, db, deal, rep):
    resp = auth.login(rep).post(f"/deals/{deal.id}/close", data={
        "outcome": "won", "version": deal.version, "posted_url": "instagram.com/p/abc"})
    assert resp.status_code == 200
    assert b"Invalid URL." in resp.data or b"must start with https://" in resp.data
    db.session.expire_all()
    assert deal.outcome == "open"


def test_close_lost_from_the_deal_page_requires_a_reason(auth, db, deal, rep):
    client = auth.login(rep)
    resp = client.post(f"/deals/{deal.id}/close", data={"outcome": "lost",
                                                        "version": deal.version})
    assert resp.status_code == 200 and b"Choose why the deal was lost." in resp.data
    db.session.expire_all()
    assert deal.outcome == "open"
    ok = client.post(f"/deals/{deal.id}/close", data={"outcome": "lost", "version": deal.version,
                                                      "lost_reason_id": reason(db).id})
    assert ok.status_code == 302
    db.session.expire_all()
    assert deal.outcome == "lost" and deal.stage.name == "Declined"


def test_results_can_be_recorded_later(auth, db, deal, rep):
    resp = auth.login(rep).post(f"/deals/{deal.id}/results", data={
        "version": deal.version, "reach": "-3"})
    assert resp.status_code == 200 and b"Number must be at least 0." in resp.data
    ok = auth.client.post(f"/deals/{deal.id}/results", data={"version": deal.version,
                                                             "reach": "9000"})
    assert ok.status_code == 302
    db.session.expire_all()
    assert deal.reach == 9000


# No lost updates ---------------------------------------------------------------------------
def test_version_conflict_between_two_browsers(app, auth, db, deal, rep, manager, hx):
    loaded_version = deal.version
    pitched = get_stage(db, "Influencer collaborations", "Pitched")
    negotiating = get_stage(db, "Influencer collaborations", "Negotiating")
    first = Auth(app.test_client()).login(manager)
    ok = first.post(f"/deals/{deal.id}/move", data={"stage_id": pitched.id,
                                                    "version": loaded_version})
    assert ok.status_code == 302
    second = auth.login(rep)
    late = second.post(f"/deals/{deal.id}/move", data={
        "stage_id": negotiating.id, "version": loaded_version, "board": "1",
        "from_stage_id": deal.stage_id}, headers=hx)
    body = late.data.decode()
    assert late.status_code == 200
    assert "was changed by someone else" in body and "flash-error" in body
    # The card comes back in its true column with the version it has now.
    db.session.expire_all()
    assert deal.stage_id == pitched.id and deal.version == loaded_version + 1
    true_column = body[body.index(f'id="col-{pitched.id}"'):]
    assert f'id="deal-{deal.id}"' in true_column.split("</section>")[0]
    assert f'name="version" value="{deal.version}"' in body
    plain = second.post(f"/deals/{deal.id}/move", data={"stage_id": negotiating.id,
                                                        "version": loaded_version})
    assert plain.status_code == 302
    assert "was changed by someone else" in second.get(plain.headers["Location"]).data.decode()
    db.session.expire_all()
    assert deal.stage_id == pitched.id


def test_version_race_between_two_database_sessions(app, db, deal, rep, manager):
    """Both sessions read version 1; the slower one's UPDATE finds no row and is refused."""
    pitched = get_stage(db, "Influencer collaborations", "Pitched")
    negotiating = get_stage(db, "Influencer collaborations", "Negotiating")
    deal_id, version = deal.id, deal.version
    db.session.commit()   # nothing of this session's own is pending
    db.session.expire_all()
    mine = db.session.get(Deal, deal_id)
    assert mine.version == version
    with Session(db.engine) as other:
        theirs = other.get(Deal, deal_id)
        theirs.stage_id = pitched.id
        other.commit()
    with pytest.raises(Conflict, match="changed by someone else"):
        services.move_deal(rep, mine, negotiating.id, expected_version=version)
    db.session.rollback()
    fresh = db.session.get(Deal, deal_id)
    assert fresh.stage_id == pitched.id and fresh.version == version + 1


def test_edit_with_an_old_version_is_refused(auth, db, deal, rep):
    client = auth.login(rep)
    old = deal.version
    assert client.post(f"/deals/{deal.id}/edit", data={
        "title": "Spring reel v2", "version": old, "currency": "USD"}).status_code == 302
    resp = client.post(f"/deals/{deal.id}/edit", data={"title": "Mine", "version": old,
                                                       "currency": "USD"})
    assert resp.status_code == 200 and b"changed by someone else" in resp.data
    db.session.expire_all()
    assert deal.title == "Spring reel v2"


# Permissions ------------------------------------------------------------------------------
def test_another_reps_deal_is_404_everywhere(auth, db, deal, other_rep, hx):
    client = auth.login(other_rep)
    pitched = get_stage(db, "Influencer collaborations", "Pitched")
    assert client.get(f"/deals/{deal.id}").status_code == 404
    assert client.get(f"/deals/{deal.id}/edit").status_code == 404
    assert client.post(f"/deals/{deal.id}/move", data={"stage_id": pitched.id}).status_code == 404
    assert client.post(f"/deals/{deal.id}/move", data={"stage_id": pitched.id, "board": "1"},
                       headers=hx).status_code == 404
    assert client.post(f"/deals/{deal.id}/close", data={"outcome": "won"}).status_code == 404
    assert client.post(f"/deals/{deal.id}/results", data={"reach": "1"}).status_code == 404
    db.session.expire_all()
    assert deal.stage.name == "Prospect"
    with pytest.raises(ValidationFailed):
        services.move_deal(other_rep, deal, pitched.id)


def test_deals_panel_on_the_contact_page(auth, db, deal, rep, count_queries):
    client = auth.login(rep)
    resp = client.get(f"/contacts/{deal.contact_id}")
    assert resp.status_code == 200
    html = resp.data.decode()
    assert 'id="deals"' in html and "Spring reel" in html and "New deal" in html


def test_contact_page_fetches_the_quick_deal_form(auth, db, deal, rep):
    html = auth.login(rep).get(f"/contacts/{deal.contact_id}").data.decode()
    assert 'id="qd-title"' not in html      # not rendered until asked for
    assert f'href="/deals/new?contact_id={deal.contact_id}"' in html
    assert f'hx-get="/deals/new?contact_id={deal.contact_id}"' in html


def test_quick_deal_fragment(auth, db, deal, rep, hx):
    body = auth.login(rep).get(f"/deals/new?contact_id={deal.contact_id}", headers=hx).data.decode()
    assert "<html" not in body and 'id="qd-title"' in body and "autofocus" in body
    assert 'name="csrf_token"' in body and f'value="/contacts/{deal.contact_id}"' in body
    assert 'selected' in body and "<optgroup" in body


def test_quick_deal_fragment_vs_full_page(auth, db, deal, rep):
    body = auth.login(rep).get(f"/deals/new?contact_id={deal.contact_id}").data.decode()
    assert "<html" in body and 'id="qd-title"' not in body


def test_quick_deal_fragment_for_someone_elses_contact_is_404(auth, db, rep, other_rep, hx):
    theirs = factories.ContactFactory(owner_id=other_rep.id)
    assert auth.login(rep).get(f"/deals/new?contact_id={theirs.id}", headers=hx).status_code == 404


def test_quick_deal_fragment_bad_contact_id_is_the_contact_picker(auth, db, rep, hx):
    resp = auth.login(rep).get("/deals/new?contact_id=abc", headers=hx)
    assert resp.status_code == 200 and b'id="qd-title"' not in resp.data


def test_quick_deal_posts_back_to_the_contact(auth, db, rep):
    ensure_default_pipelines()   # as the migrations leave a workspace
    contact = factories.ContactFactory(owner_id=rep.id)
    client = auth.login(rep)
    body = client.get(f"/deals/new?contact_id={contact.id}", headers={"HX-Request": "true"}).data.decode()
    stage_id = body.split('selected')[0].rsplit('value="', 1)[1].split('"')[0]
    resp = client.post("/deals/new", data={"contact_id": contact.id, "title": "Reel", "stage_id": stage_id,
                                           "currency": "USD", "next": f"/contacts/{contact.id}"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/contacts/{contact.id}")
