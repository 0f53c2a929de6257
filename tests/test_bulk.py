"""Bulk actions on the contacts list and the inbox: the selection through the policy, the
consent gate per person, one transaction, the summary, undo, and the export."""
import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.bulk import selection as bulk_selection
from crm.bulk import services as bulk
from crm.bulk.models import BulkChange, BulkChangeRow
from crm.contacts import services as contact_services
from crm.contacts.models import Contact
from crm.conversations import services as conv_services
from crm.conversations.models import CLOSED, NEEDS_REPLY, Conversation
from crm.core.timeutil import utcnow
from crm.extensions import db as _db
from crm.pipeline.defaults import ensure_default_pipelines
from crm.pipeline.models import Deal
from tests import factories


def people(owner, *names, **values):
    return [factories.ContactFactory(name=n, owner_id=owner.id if owner else None, **values)
            for n in names]


def post(client, url, follow=True, **data):
    data.setdefault("next", "/contacts")
    return client.post(url, data=data, follow_redirects=follow)


def count(model) -> int:
    return _db.session.scalar(select(func.count()).select_from(model))


def owner_of(contact_id):
    return _db.session.get(Contact, contact_id).owner_id


# Contacts: reassign ------------------------------------------------------------------------
def test_manager_reassigns_ticked_contacts_with_a_summary_and_an_audit(auth, manager, rep,
                                                                        other_rep, db):
    a, b, c = people(rep, "Ann", "Bob", "Cy")
    already = people(other_rep, "Dee")[0]
    db.session.commit()
    html = post(auth.login(manager), "/bulk/contacts", scope="selected", action="reassign",
                owner_id=str(other_rep.id), ids=[a.id, b.id, already.id]).get_data(as_text=True)
    assert "2 contacts reassigned to Otto Other; 1 skipped: Dee (already Otto Other&#39;s)." in html
    assert 'action="/bulk/' in html and ">Undo</button>" in html
    assert [owner_of(x.id) for x in (a, b, c)] == [other_rep.id, other_rep.id, rep.id]
    change = db.session.scalars(select(BulkChange)).one()
    assert change.action == "reassign" and len(change.rows) == 2
    assert {r.before["owner_id"] for r in change.rows} == {rep.id}
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "bulk_reassign")) == 1
    # Each contact's own history says so too.
    assert db.session.scalar(select(func.count()).where(
        AuditEvent.entity_type == "contact", AuditEvent.entity_id == a.id,
        AuditEvent.action == "update")) == 1
    # The summary shows once: the next page has none.
    assert "reassigned to" not in auth.client.get("/contacts").get_data(as_text=True)


def test_a_rep_cannot_reassign_and_nothing_changes(auth, rep, other_rep, db):
    a, = people(rep, "Ann")
    db.session.commit()
    html = post(auth.login(rep), "/bulk/contacts", scope="selected", action="reassign",
                owner_id=str(other_rep.id), ids=[a.id]).get_data(as_text=True)
    assert "Only managers can reassign contacts." in html
    assert owner_of(a.id) == rep.id and count(BulkChange) == 0


def test_the_new_owner_must_be_chosen(auth, manager, rep, db):
    a, = people(rep, "Ann")
    db.session.commit()
    html = post(auth.login(manager), "/bulk/contacts", scope="selected", action="reassign",
                owner_id="", ids=[a.id]).get_data(as_text=True)
    assert "Choose the new owner." in html and owner_of(a.id) == rep.id


# Contacts: the selection goes through the policy --------------------------------------------
def test_a_rep_tags_only_what_they_may_see_ticked_or_all(auth, rep, other_rep, db):
    mine = people(rep, "Ann", "Bob")
    theirs, = people(other_rep, "Zed")
    db.session.commit()
    client = auth.login(rep)
    # A ticked id of someone else's contact (sent by hand) is not touched.
    html = post(client, "/bulk/contacts", scope="selected", action="tag", new_tag="VIP",
                ids=[mine[0].id, theirs.id]).get_data(as_text=True)
    assert "1 contact tagged “vip”; 1 skipped: 1 row (gone, or not yours to see)." in html
    # "All matching" is the list's filters, resolved on the server through the policy.
    html = post(client, "/bulk/contacts", scope="all", action="tag", new_tag="spring").get_data(
        as_text=True)
    assert "2 contacts tagged “spring”" in html
    db.session.expire_all()
    assert [t.name for t in db.session.get(Contact, theirs.id).tags] == []
    assert sorted(t.name for t in db.session.get(Contact, mine[0].id).tags) == ["spring", "vip"]


def test_all_matching_follows_the_filters_not_the_page(auth, manager, rep, db):
    leads = people(rep, *[f"Lead {i:02d}" for i in range(30)], kind="lead")
    people(rep, "Friend")
    db.session.commit()
    html = post(auth.login(manager), "/bulk/contacts", scope="all", action="archive",
                kind="lead").get_data(as_text=True)
    assert "30 contacts archived." in html     # more than a page of 25
    assert count(Contact) == 31
    assert db.session.scalar(select(func.count()).where(Contact.archived_at.is_(None))) == 1
    assert all(db.session.get(Contact, c.id).archived_at for c in leads)


def test_a_selection_over_the_limit_is_refused_and_says_so(auth, manager, rep, db, monkeypatch):
    monkeypatch.setattr(bulk_selection, "MAX_ROWS", 2)
    people(rep, "Ann", "Bob", "Cy")
    db.session.commit()
    html = post(auth.login(manager), "/bulk/contacts", scope="all",
                action="archive").get_data(as_text=True)
    assert "at most 2 contacts at a time" in html
    assert db.session.scalar(select(func.count()).where(Contact.archived_at.is_not(None))) == 0


def test_nothing_ticked_is_a_clear_message(auth, rep, db):
    people(rep, "Ann")
    db.session.commit()
    html = post(auth.login(rep), "/bulk/contacts", scope="selected",
                action="archive").get_data(as_text=True)
    assert "No contacts selected" in html and count(BulkChange) == 0


def test_a_bad_tag_names_the_field(auth, rep, db):
    a, = people(rep, "Ann")
    db.session.commit()
    html = post(auth.login(rep), "/bulk/contacts", scope="selected", action="tag", new_tag="x" * 80,
                ids=[a.id]).get_data(as_text=True)
    assert "Tag: Field cannot be longer than 64 characters." in html
    assert count(BulkChange) == 0


# Contacts: add to a campaign through the consent gate ---------------------------------------
@pytest.fixture
def pipelines(db):
    """The ready-made pipelines a campaign's deals start in (migration 0025 seeds them)."""
    ensure_default_pipelines()
    db.session.commit()


def test_campaign_refusals_are_named_with_why(auth, rep, db, pipelines):
    campaign = factories.CampaignFactory(name="Spring")
    ok, = people(rep, "Ann")
    out, = people(rep, "Olly", consent_status="opted_out")
    dnc, = people(rep, "Dora", do_not_contact=True)
    db.session.commit()
    html = post(auth.login(rep), "/bulk/contacts", scope="all", action="campaign",
                campaign_id=str(campaign.id)).get_data(as_text=True)
    assert "1 contact added to “Spring”; 2 refused:" in html
    assert "Olly (opted out)" in html and "Dora (is marked do-not-contact)" in html
    assert "<strong>Olly</strong>: refused, opted out" in html
    deals = db.session.scalars(select(Deal).where(Deal.campaign_id == campaign.id)).all()
    assert [d.contact_id for d in deals] == [ok.id]
    # Each refusal is kept, as one refused at a time is.
    refused = db.session.scalars(select(AuditEvent.entity_id).where(
        AuditEvent.action == "outreach_refused")).all()
    assert sorted(refused) == sorted([out.id, dnc.id])


def test_undo_takes_the_campaign_deals_back(auth, rep, db, pipelines):
    campaign = factories.CampaignFactory(name="Spring")
    a, b = people(rep, "Ann", "Bob")
    db.session.commit()
    client = auth.login(rep)
    post(client, "/bulk/contacts", scope="all", action="campaign", campaign_id=str(campaign.id))
    change = db.session.scalars(select(BulkChange)).one()
    html = post(client, f"/bulk/{change.id}/undo").get_data(as_text=True)
    assert "Undone: 2 contacts put back as they were." in html
    assert db.session.scalar(select(func.count()).where(
        Deal.campaign_id == campaign.id, Deal.archived_at.is_(None))) == 0


# One transaction ---------------------------------------------------------------------------
def test_a_failure_half_way_changes_nothing(auth, manager, rep, db, monkeypatch):
    a, b, c = people(rep, "Ann", "Bob", "Cy")
    db.session.commit()
    real, calls = contact_services.update_contact, []

    def fails_on_the_third(actor, contact, data, **kw):
        calls.append(contact.id)
        if len(calls) == 3:
            raise RuntimeError("the database went away")
        return real(actor, contact, data, **kw)

    monkeypatch.setattr(contact_services, "update_contact", fails_on_the_third)
    client = auth.login(manager)
    with pytest.raises(RuntimeError):
        post(client, "/bulk/contacts", scope="all", action="tag", new_tag="vip")
    db.session.expire_all()
    assert len(calls) == 3
    assert all(db.session.get(Contact, x.id).tags == [] for x in (a, b, c))
    assert count(BulkChange) == 0 and count(BulkChangeRow) == 0
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "update")) == 0


def test_a_contact_saved_by_someone_else_meanwhile_refuses_the_whole_action(auth, manager, rep,
                                                                           other_rep, db,
                                                                           monkeypatch):
    from sqlalchemy import update

    a, b = people(rep, "Ann", "Bob")
    db.session.commit()
    real = contact_services.set_owner

    def someone_saves_ann_first(actor, contact, owner_id):
        if contact.id == a.id:     # another request commits an edit of Ann right now
            with _db.engine.begin() as conn:
                conn.execute(update(Contact).where(Contact.id == a.id)
                             .values(company="Acme", version=Contact.version + 1))
        return real(actor, contact, owner_id)

    monkeypatch.setattr(contact_services, "set_owner", someone_saves_ann_first)
    html = post(auth.login(manager), "/bulk/contacts", scope="all", action="reassign",
                owner_id=str(other_rep.id)).get_data(as_text=True)
    assert "Someone changed some of these records while this ran, so nothing was changed." in html
    db.session.expire_all()
    assert [owner_of(x.id) for x in (a, b)] == [rep.id, rep.id]
    assert db.session.get(Contact, a.id).company == "Acme"      # their edit stands
    assert count(BulkChange) == 0


# Undo --------------------------------------------------------------------------------------
def test_undo_skips_a_row_changed_since_and_names_it(auth, manager, rep, other_rep, db):
    a, b = people(rep, "Ann", "Bob")
    db.session.commit()
    client = auth.login(manager)
    post(client, "/bulk/contacts", scope="all", action="reassign", owner_id=str(other_rep.id))
    change = db.session.scalars(select(BulkChange)).one()
    # Someone edits Bob afterwards.
    contact_services.update_contact(manager, db.session.get(Contact, b.id), {"company": "Acme"})
    db.session.commit()
    html = post(client, f"/bulk/{change.id}/undo").get_data(as_text=True)
    assert "Undone: 1 contact put back as they were; 1 left as they are, because someone " \
           "changed them since (or you no longer may): Bob." in html
    assert owner_of(a.id) == rep.id and owner_of(b.id) == other_rep.id
    assert db.session.get(BulkChange, change.id).undone_at is not None
    # Once only.
    html = post(client, f"/bulk/{change.id}/undo").get_data(as_text=True)
    assert "already undone" in html


def test_only_its_author_may_undo_and_only_for_a_while(auth, manager, rep, other_rep, db):
    a, = people(rep, "Ann")
    db.session.commit()
    client = auth.login(manager)
    post(client, "/bulk/contacts", scope="all", action="archive")
    change = db.session.scalars(select(BulkChange)).one()
    auth.logout()
    assert auth.login(rep).post(f"/bulk/{change.id}/undo").status_code == 404
    auth.logout()
    change.undo_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    html = post(auth.login(manager), f"/bulk/{change.id}/undo").get_data(as_text=True)
    assert "Undo is possible for 15 minutes" in html
    assert db.session.get(Contact, a.id).archived_at is not None


def test_undo_restores_archived_contacts(auth, rep, db):
    a, b = people(rep, "Ann", "Bob")
    db.session.commit()
    client = auth.login(rep)
    post(client, "/bulk/contacts", scope="selected", action="archive", ids=[a.id, b.id])
    change = db.session.scalars(select(BulkChange)).one()
    post(client, f"/bulk/{change.id}/undo")
    db.session.expire_all()
    assert [db.session.get(Contact, x.id).archived_at for x in (a, b)] == [None, None]


# Export ------------------------------------------------------------------------------------
def test_export_streams_the_ticked_contacts_only_those_visible(auth, rep, other_rep, db):
    a, b, c = people(rep, "Ann", "Bob", "Cy")
    theirs, = people(other_rep, "Zed")
    db.session.commit()
    resp = auth.login(rep).post("/bulk/contacts/export.csv",
                                data={"scope": "selected", "ids": [a.id, c.id, theirs.id]})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == ["Ann", "Cy"]
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "export")) == 1


def test_export_of_all_matching_follows_the_filters(auth, rep, db):
    people(rep, "Ann", "Bob", kind="lead")
    people(rep, "Cy")
    db.session.commit()
    resp = auth.login(rep).post("/bulk/contacts/export.csv", data={"scope": "all", "kind": "lead"})
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == ["Ann", "Bob"]


# The inbox ---------------------------------------------------------------------------------
def waiting(owner, name, hours=2):
    contact = factories.ContactFactory(owner_id=owner.id, name=name)
    conv_services.log_message(owner, contact, platform="instagram", direction="in",
                              body="hello?", sent_at=utcnow() - timedelta(hours=hours))
    return db_conv(contact)


def db_conv(contact):
    return _db.session.scalars(select(Conversation).where(
        Conversation.contact_id == contact.id)).one()


def state(conv):
    _db.session.expire_all()
    return _db.session.get(Conversation, conv.id).state


def test_inbox_marks_ticked_conversations_done_and_undo_puts_them_back(auth, rep, db):
    a, b, c = (waiting(rep, n) for n in ("Ann", "Bob", "Cy"))
    db.session.commit()
    client = auth.login(rep)
    html = post(client, "/bulk/inbox", next="/inbox", scope="selected", action="close",
                ids=[a.id, b.id]).get_data(as_text=True)
    assert "2 conversations marked no reply needed." in html
    assert "1 conversation waiting on you" in html
    assert [state(x) for x in (a, b, c)] == [CLOSED, CLOSED, NEEDS_REPLY]
    change = db.session.scalars(select(BulkChange)).one()
    # Bob writes again meanwhile: his conversation is not "put back" over his new message.
    conv_services.log_message(rep, db.session.get(Conversation, b.id).contact,
                              platform="instagram", direction="in", body="still there?")
    db.session.commit()
    html = post(client, f"/bulk/{change.id}/undo", next="/inbox").get_data(as_text=True)
    assert "Undone: 1 conversation put back as they were; 1 left as they are" in html
    assert "Bob." in html
    assert [state(x) for x in (a, b, c)] == [NEEDS_REPLY] * 3
    # The wait is the original one again, not a new one.
    assert _db.session.get(Conversation, a.id).waiting_since < utcnow() - timedelta(hours=1)


def test_snoozed_conversations_leave_the_inbox_and_come_back(auth, rep, other_rep, db):
    a, b = waiting(rep, "Ann"), waiting(rep, "Bob")
    theirs = waiting(other_rep, "Zed")
    db.session.commit()
    html = post(auth.login(rep), "/bulk/inbox", next="/inbox", scope="all", action="snooze",
                snooze="1d").get_data(as_text=True)
    assert "2 conversations snoozed for 1 day." in html
    assert "Nobody is waiting on you" in html
    assert state(theirs) == NEEDS_REPLY            # not the rep's to see
    assert conv_services.wake_snoozed() == 0
    assert conv_services.wake_snoozed(utcnow() + timedelta(days=1, minutes=1)) == 2
    db.session.commit()
    assert [state(x) for x in (a, b)] == [NEEDS_REPLY] * 2
    assert _db.session.get(Conversation, a.id).snoozed_until is None


def test_inbox_reassign_moves_the_contacts(auth, manager, rep, other_rep, db):
    a = waiting(rep, "Ann")
    db.session.commit()
    html = post(auth.login(manager), "/bulk/inbox", next="/inbox", scope="selected",
                action="reassign", owner_id=str(other_rep.id), ids=[a.id]).get_data(as_text=True)
    assert "1 contact reassigned to Otto Other." in html
    assert _db.session.get(Conversation, a.id).contact.owner_id == other_rep.id


# The requests themselves -------------------------------------------------------------------
def test_lists_show_the_bar_and_write_nothing(auth, manager, rep, db, hx):
    people(rep, "Ann")
    waiting(rep, "Bob")
    db.session.commit()
    client = auth.login(manager)
    before = count(AuditEvent), count(BulkChange)
    html = client.get("/contacts").get_data(as_text=True)
    assert 'id="bulk-contacts"' in html and 'form="bulk-contacts"' in html
    assert 'value="reassign"' in html
    fragment = client.get("/contacts?kind=contact",
                          headers={**hx, "HX-Target": "contact-results"}).get_data(as_text=True)
    assert "<html" not in fragment and 'id="bulk-contacts"' in fragment
    assert 'id="bulk-inbox"' in client.get("/inbox").get_data(as_text=True)
    for url in ("/bulk/contacts", "/bulk/inbox", "/bulk/contacts/export.csv", "/bulk/1/undo"):
        assert client.get(url).status_code == 405
    assert (count(AuditEvent), count(BulkChange)) == before


def test_a_rep_is_not_offered_reassign(auth, rep, db):
    people(rep, "Ann")
    db.session.commit()
    assert 'value="reassign"' not in auth.login(rep).get("/contacts").get_data(as_text=True)


def test_boosted_post_comes_back_to_the_list(auth, rep, db):
    a, = people(rep, "Ann")
    db.session.commit()
    resp = auth.login(rep).post("/bulk/contacts", headers={"HX-Request": "true",
                                                          "HX-Boosted": "true"},
                                data={"scope": "selected", "action": "archive", "ids": [a.id],
                                      "next": "/contacts?kind=contact"})
    assert resp.status_code == 302 and resp.location.endswith("/contacts?kind=contact")


def test_next_may_not_leave_the_site(auth, rep, db):
    a, = people(rep, "Ann")
    db.session.commit()
    resp = auth.login(rep).post("/bulk/contacts", data={
        "scope": "selected", "action": "archive", "ids": [a.id], "next": "//evil.example/"})
    assert resp.location.endswith("/contacts")


def test_bulk_posts_need_the_csrf_token(app, db, rep):
    from config import TestConfig
    from crm import create_app
    from crm.accounts import sessions

    a, = people(rep, "Ann")
    csrf_app = create_app(type("C", (TestConfig,), {
        "WTF_CSRF_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}))
    client = csrf_app.test_client()
    secret = sessions.start(rep)
    db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = secret
    with csrf_app.app_context():
        for url in ("/bulk/contacts", "/bulk/inbox", "/bulk/contacts/export.csv"):
            resp = client.post(url, data={"scope": "all", "action": "archive"})
            assert resp.status_code == 400
        page = client.get("/contacts").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        resp = client.post("/bulk/contacts", data={"scope": "all", "action": "archive",
                                                   "csrf_token": token})
        assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Contact, a.id).archived_at is not None
