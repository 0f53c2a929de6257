"""Campaigns: create and edit, add people through the consent gate, figures that only count
the deals the viewer may see."""
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.campaigns import services
from crm.campaigns.models import Campaign
from crm.contacts.consent import change_consent
from crm.core.errors import OutreachRefused, ValidationFailed
from crm.core.timeutil import utcnow
from crm.pipeline.models import Deal
from tests import factories


def deals_in(db, campaign) -> int:
    return db.session.scalar(select(func.count()).select_from(Deal).where(
        Deal.campaign_id == campaign.id))


@pytest.fixture
def campaign(db, manager):
    return factories.CampaignFactory(name="Summer glow", brand="Glow Theory",
                                     budget_minor=1_000_000, owner_id=manager.id)


def test_create_campaign(auth, db, rep):
    resp = auth.login(rep).post("/campaigns/new", data={
        "name": "Autumn drop", "brand": "Velvet Rocket", "starts_on": "2030-09-01",
        "ends_on": "2030-10-15", "budget_minor": "25,000", "currency": "EUR"})
    assert resp.status_code == 302
    created = db.session.scalars(select(Campaign)).one()
    assert (created.name, created.budget_minor, created.currency, created.owner_id) == (
        "Autumn drop", 2_500_000, "EUR", rep.id)


@pytest.mark.parametrize("data, message", [
    ({"name": ""}, b"Give the campaign a name."),
    ({"name": "X", "starts_on": "2030-05-02", "ends_on": "2030-05-01"},
     "The end date is before the start date.".encode()),
    ({"name": "X", "budget_minor": "much"}, b"Enter an amount such as 1500"),
])
def test_bad_campaign_input_writes_nothing(auth, db, rep, data, message):
    resp = auth.login(rep).post("/campaigns/new", data={"currency": "USD", **data})
    assert resp.status_code == 200 and message in resp.data
    assert db.session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_only_owner_or_manager_edits(auth, db, campaign, rep, manager):
    assert auth.login(rep).get(f"/campaigns/{campaign.id}/edit").status_code == 404
    assert auth.client.post(f"/campaigns/{campaign.id}/edit", data={
        "name": "Hijacked", "currency": "USD"}).status_code == 404
    with pytest.raises(ValidationFailed):
        services.update_campaign(rep, campaign, {"name": "Hijacked"})
    ok = auth.login(manager).post(f"/campaigns/{campaign.id}/edit", data={
        "name": "Summer glow 2030", "currency": "USD", "owner_id": manager.id})
    assert ok.status_code == 302
    db.session.expire_all()
    assert campaign.name == "Summer glow 2030"


def test_add_a_person_opens_a_deal_in_the_campaign(auth, db, campaign, rep):
    factories.default_stage()   # the ready-made pipelines, as the migrations leave a workspace
    contact = factories.ContactFactory(name="Nia Mensah", owner_id=rep.id, kind="influencer",
                                       rate_per_post_minor=80_000)
    resp = auth.login(rep).post(f"/campaigns/{campaign.id}/people",
                                data={"contact_id": contact.id})
    assert resp.status_code == 302
    deal = db.session.scalars(select(Deal)).one()
    assert (deal.campaign_id, deal.contact_id, deal.value_minor) == (campaign.id, contact.id,
                                                                    80_000)
    assert deal.stage.name == "Prospect" and deal.owner_id == rep.id
    again = auth.client.post(f"/campaigns/{campaign.id}/people", data={"contact_id": contact.id})
    assert "already in this campaign" in again.data.decode()
    assert deals_in(db, campaign) == 1


@pytest.mark.parametrize("change", [{"status": "opted_out"}, {"do_not_contact": True}])
def test_opted_out_or_dnc_people_cannot_be_added(auth, db, campaign, rep, change):
    contact = factories.ContactFactory(name="Omar Rossi", owner_id=rep.id)
    change_consent(rep, contact, source="Asked by email", **change)
    db.session.commit()
    with pytest.raises(OutreachRefused, match="Omar Rossi"):
        services.add_to_campaign(rep, campaign, contact)
    db.session.rollback()
    resp = auth.login(rep).post(f"/campaigns/{campaign.id}/people",
                                data={"contact_id": contact.id})
    assert resp.status_code == 409 and b"Omar Rossi" in resp.data
    assert deals_in(db, campaign) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "outreach_refused", AuditEvent.entity_id == contact.id)) == 1
    page = auth.client.get(f"/campaigns/{campaign.id}?q=Omar").data.decode()
    assert "Add to campaign" not in page   # the search result says why instead


def test_attaching_an_existing_deal_passes_the_gate(auth, db, campaign, rep):
    contact = factories.ContactFactory(owner_id=rep.id)
    deal = factories.DealFactory(contact=contact)
    change_consent(rep, contact, status="opted_out", source="Replied STOP")
    db.session.commit()
    resp = auth.login(rep).post(f"/deals/{deal.id}/edit", data={
        "title": deal.title, "version": deal.version, "currency": "USD",
        "campaign_id": campaign.id})
    assert resp.status_code == 409
    db.session.expire_all()
    assert deal.campaign_id is None
    with pytest.raises(OutreachRefused):
        services.add_to_campaign(rep, campaign, contact, deal=deal)


def test_campaign_figures_count_only_what_the_viewer_may_see(auth, db, campaign, rep, other_rep,
                                                             manager):
    mine = factories.ContactFactory(name="Mine Person", owner_id=rep.id)
    theirs = factories.ContactFactory(name="Their Person", owner_id=other_rep.id)
    won = factories.default_stage("Influencer collaborations", 6)
    prospect = factories.default_stage("Influencer collaborations", 0)
    factories.DealFactory(contact=mine, stage=won, campaign_id=campaign.id, value_minor=300_000,
                          reach=50_000, clicks=900, conversions=40, revenue_minor=700_000,
                          closed_at=utcnow())
    factories.DealFactory(contact=mine, stage=prospect, campaign_id=campaign.id,
                          value_minor=100_000)
    factories.DealFactory(contact=theirs, stage=won, campaign_id=campaign.id,
                          value_minor=500_000, reach=1_000_000, closed_at=utcnow())
    rep_view = services.summaries(rep, [campaign])[campaign.id]
    assert (rep_view.deals, rep_view.spent, rep_view.open_value, rep_view.reach) == (
        2, 300_000, 100_000, 50_000)
    assert rep_view.remaining(campaign.budget_minor) == 700_000
    assert rep_view.spent_percent(campaign.budget_minor) == 30
    manager_view = services.summaries(manager, [campaign])[campaign.id]
    assert (manager_view.deals, manager_view.spent, manager_view.reach) == (3, 800_000, 1_050_000)
    html = auth.login(rep).get(f"/campaigns/{campaign.id}").data.decode()
    assert "Mine Person" in html and "Their Person" not in html
    assert "$3,000" in html and "$7,000 left" in html and "50,000" in html
    listing = auth.client.get("/campaigns").data.decode()
    assert "Summer glow" in listing and "$3,000" in listing and "$8,000" not in listing
    manager_html = auth.login(manager).get(f"/campaigns/{campaign.id}").data.decode()
    assert "Their Person" in manager_html and "$2,000 left" in manager_html


def test_campaign_search_fragment(auth, db, campaign, rep):
    factories.ContactFactory(name="Freya Larsen", owner_id=rep.id)
    resp = auth.login(rep).get(f"/campaigns/{campaign.id}?q=Freya",
                               headers={"HX-Request": "true", "HX-Target": "add-matches"})
    body = resp.data.decode()
    assert "<html" not in body and "Freya Larsen" in body and "Add to campaign" in body


def test_archive_and_restore(auth, db, campaign, manager, rep):
    contact = factories.ContactFactory(owner_id=rep.id)
    auth.login(manager).post(f"/campaigns/{campaign.id}/archive", data={"archived": "1"})
    db.session.expire_all()
    assert campaign.archived_at is not None
    assert "Summer glow" not in auth.client.get("/campaigns").data.decode()
    assert "Summer glow" in auth.client.get("/campaigns?archived=1").data.decode()
    with pytest.raises(ValidationFailed, match="archived"):
        services.add_to_campaign(manager, campaign, contact)
    auth.client.post(f"/campaigns/{campaign.id}/archive", data={"archived": "0"})
    db.session.expire_all()
    assert campaign.archived_at is None


def _edit(client, campaign, version, **changes):
    data = {"name": campaign.name, "brand": campaign.brand or "", "currency": campaign.currency,
            "budget_minor": "10,000", "owner_id": campaign.owner_id, "version": version}
    return client.post(f"/campaigns/{campaign.id}/edit", data={**data, **changes})


def test_an_edit_carries_the_version_it_read(auth, db, campaign, manager):
    client = auth.login(manager)
    form = client.get(f"/campaigns/{campaign.id}/edit").get_data(as_text=True)
    assert f'name="version" type="hidden" value="{campaign.version}"' in form
    assert _edit(client, campaign, campaign.version, brand="Glow Two").status_code == 302
    db.session.expire_all()
    assert (campaign.brand, campaign.version) == ("Glow Two", 2)


def test_a_concurrent_edit_is_a_clear_conflict(auth, db, campaign, manager, admin):
    loaded = campaign.version
    _edit(auth.login(admin), campaign, loaded, brand="Admin's brand")      # saved first
    resp = _edit(auth.login(manager), campaign, loaded, brand="Manager's brand")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "was changed by someone else since you loaded the page" in body
    assert "Admin&#39;s brand" in body                       # the form shows what is saved now
    db.session.expire_all()
    assert campaign.brand == "Admin's brand" and campaign.version == loaded + 1
    # Archiving with the old version is refused too.
    resp = auth.client.post(f"/campaigns/{campaign.id}/archive",
                            data={"archived": "1", "version": loaded}, follow_redirects=True)
    assert "was changed by someone else" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert campaign.archived_at is None


def test_a_lost_race_at_write_time_is_a_conflict_not_an_error(db, campaign, manager):
    from sqlalchemy import text

    from crm.core.errors import Conflict

    # Someone else's save lands between our read and our write.
    db.session.execute(text("UPDATE campaigns SET version = version + 1 WHERE id = :id"),
                       {"id": campaign.id})
    with pytest.raises(Conflict, match="changed by someone else"):
        services.update_campaign(manager, campaign, {"name": "Renamed", "currency": "USD"},
                                 expected_version=campaign.version)


def test_unknown_campaign_is_404(auth, rep):
    assert auth.login(rep).get("/campaigns/999").status_code == 404


def test_campaign_list_query_count_does_not_grow(auth, db, rep, count_queries):
    client = auth.login(rep)
    rep_id = rep.id

    def add(n):
        for _ in range(n):
            c = factories.CampaignFactory()
            factories.DealFactory(contact=factories.ContactFactory(owner_id=rep_id),
                                  campaign_id=c.id)
        db.session.commit()

    def cold():
        db.session.remove()
        return client.get("/campaigns")

    add(2)
    cold()
    with count_queries() as few:
        assert cold().status_code == 200
    add(20)
    with count_queries() as many:
        assert cold().data.decode().count('class="row-link"') == 22
    assert many.count == few.count
