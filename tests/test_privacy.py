"""Privacy: a person's data on request, erasure that sticks, retention."""
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import (JSON, LargeBinary, String, Text, bindparam, cast, func, select,
                        text)

from crm.audit.models import AuditEvent
from crm.bulk.models import BulkChange
from crm.channels import services as channels
from crm.channels.models import ChannelEvent, OutboundSend
from crm.contacts import consent, services as contact_services
from crm.contacts.models import Contact, Note, SocialHandle
from crm.conversations import ingest, services as conversations
from crm.conversations.models import Message, MessageMedia, ResponseTime
from crm.core.timeutil import utcnow
from crm.extensions import db as _db
from crm.imports.models import ImportRun
from crm.jobs.models import Job
from crm.pipeline.models import Deal, StageChange
from crm.privacy import export, retention, services as privacy
from crm.privacy.models import ErasedPerson, Erasure, Suppression
from crm.reports.dashboard import build_dashboard
from crm.reports.filters import DashboardFilters
from crm.settings import services as settings
from crm.settings.models import Setting
from crm.tasks.models import Task
from tests import factories
from tests.test_imports_support import (ME, fresh, ig_export, ig_message,  # noqa: F401
                                        import_dm, import_storage, run_id, upload_csv,
                                        upload_dm)

NAME, EMAIL, PHONE = "Zoë Kowalski", "zoe.kowalski@pottery.co.uk", "+44 7700 900123"
HANDLE, PERSON_ID = "zoekowalski.art", "1784999000111222"
SECRET = "pottery-and-marmalade"
# What must be found nowhere after the erasure (lower case; JSON keeps ASCII only).
NEEDLES = ["kowalski", "zoekowalski", "zoe.kowalski", "7700 900123", "7700900123",
           PERSON_ID, "marmalade"]


@pytest.fixture(autouse=True)
def exports_folder(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_EXPORT_DIR", str(tmp_path / "exports"))
    monkeypatch.setitem(app.config, "MEDIA_FOLDER", str(tmp_path / "media"))


def _person(admin, rep):
    """A person with a record in every table that can hold something about them."""
    from crm.webhooks.models import WebhookEndpoint
    _db.session.add(WebhookEndpoint(url="https://hooks.example.com/rapport", secret="s" * 32,
                                    events=["contact.created", "message.received",
                                            "message.sent", "conversation.needs_reply"]))
    _db.session.flush()
    contact = contact_services.create_contact(
        rep, {"name": NAME, "email": EMAIL, "phone": PHONE, "company": "Kowalski Ceramics",
              "notes": f"Loves {SECRET}", "kind": "influencer"},
        handles=[{"platform": "instagram", "handle": HANDLE}], tags=["ceramics"])
    contact.handles[0].account_id = PERSON_ID
    contact_services.add_note(rep, contact, f"{NAME} asked about {SECRET}")
    inbound = conversations.log_message(rep, contact, platform="instagram", direction="in",
                                        body=f"Hi, Zoë here: {SECRET} please",
                                        sent_at=utcnow() - timedelta(days=3))
    conversations.log_message(rep, contact, platform="instagram", direction="out",
                              body="Thanks Zoë, rates attached",
                              sent_at=utcnow() - timedelta(days=3, hours=-1))
    consent.change_consent(rep, contact, status="opted_in", source="Instagram DM",
                           note=f"{NAME} said yes to {SECRET}",
                           evidence_message_id=inbound.id)
    campaign = factories.CampaignFactory(name="Spring ceramics")
    deal = factories.DealFactory(contact=contact, owner_id=rep.id, campaign=campaign,
                                 title=f"{NAME} — spring collab", value_minor=50_000,
                                 next_step=f"Call Zoë about {SECRET}")
    _db.session.add(StageChange(deal_id=deal.id, to_stage_id=deal.stage_id, actor_id=rep.id))
    factories.TaskFactory(contact_id=contact.id, assignee_id=rep.id, deal_id=deal.id,
                          title=f"Follow up with {NAME}", notes=f"{SECRET} samples")
    line = channels.add_channel(admin, kind="instagram", name="Studio", app_secret="s",
                                verify_token="v", access_token="t", account_id="17841400000000001")
    _db.session.add(MessageMedia(message_id=inbound.id, channel_id=line.id, media_id="m-1",
                                 kind="image", filename="zoekowalski-portrait.jpg"))
    _db.session.add(OutboundSend(channel_id=line.id, conversation_id=inbound.conversation_id,
                                 author_id=rep.id, recipient_id=PERSON_ID,
                                 body=f"Sent to Zoë Kowalski: {SECRET}"))
    _db.session.add(ChannelEvent(channel_id=line.id, status="done", body=json.dumps(
        {"object": "instagram", "entry": [{"messaging": [{"sender": {"id": PERSON_ID},
                                                         "message": {"text": SECRET}}]}]}
    ).encode()))
    _db.session.add(ImportRun(kind="csv", status="done", filename="influencers.csv",
                              created_by_id=rep.id, finished_at=utcnow(),
                              options={"check": {"examples": {"create": [[2, NAME, EMAIL]]}}},
                              problems=[f"Row 3, column Email: {EMAIL} twice."]))
    _db.session.add(AuditEvent(actor_id=rep.id, action="import", entity_type="contact",
                               entity_id=contact.id, contact_id=contact.id,
                               summary="Updated by CSV import influencers.csv: email"))
    _db.session.add(BulkChange(user_id=admin.id, action="tag", entity_type="contact",
                               summary="1 contact tagged", undo_until=utcnow(),
                               details={"skipped": [[NAME, "already tagged"]]}))
    _db.session.commit()
    return contact


def _text_columns():
    for table in _db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text, JSON)):
                yield table, column


def _found_anywhere() -> list[str]:
    """Every text column of every table (JSON as its text), searched for every needle."""
    found = []
    for table, column in _text_columns():
        lowered = func.lower(cast(column, Text))
        for needle in NEEDLES:
            n = _db.session.scalar(select(func.count()).select_from(table).where(
                lowered.contains(needle.lower(), autoescape=True)))
            if n:
                found.append(f"{table.name}.{column.name}: {needle}")
    where = ("instr(body, :n) > 0" if _db.engine.dialect.name == "sqlite"
             else "position(:n in body) > 0")
    for needle in (PERSON_ID, SECRET):
        stmt = text(f"SELECT count(*) FROM channel_events WHERE {where}").bindparams(
            bindparam("n", needle.encode(), type_=LargeBinary))
        if _db.session.scalar(stmt):
            found.append(f"channel_events.body: {needle}")
    if _db.engine.dialect.name == "sqlite":
        for word in ("marmalade", "kowalski"):
            if _db.session.execute(text("SELECT rowid FROM messages_fts WHERE messages_fts "
                                        "MATCH :w"), {"w": word}).first():
                found.append(f"messages_fts: {word}")
        if _db.session.execute(text("SELECT rowid FROM contacts_fts WHERE contacts_fts "
                                    "MATCH :w"), {"w": "kowalski"}).first():
            found.append("contacts_fts: kowalski")
    else:
        n = _db.session.scalar(text("SELECT count(*) FROM messages WHERE "
                                    "to_tsvector('simple', body) @@ to_tsquery('simple', "
                                    "'marmalade')"))
        if n:
            found.append("messages word index: marmalade")
    return found


def _figures(manager):
    filters = DashboardFilters.from_args({"preset": "quarter"}, manager.timezone, utcnow())
    d = build_dashboard(manager, filters)
    return d.dms, d.pipeline, d.consent


# -- erasure -------------------------------------------------------------------------------------
def test_erasure_leaves_no_trace_in_any_text_column(admin, manager, rep, auth, client, db):
    contact = _person(admin, rep)
    cid = contact.id
    found = _found_anywhere()
    assert len(found) > 15 and any("webhook_deliveries" in f for f in found), found
    messages_before = db.session.scalar(select(func.count()).select_from(Message))
    responses_before = db.session.scalar(select(func.count()).select_from(ResponseTime))
    figures_before = _figures(manager)

    auth.login(admin)
    page = client.get(f"/contacts/{cid}/erase").get_data(as_text=True)
    assert "What is erased" in page and "2 messages" in page and "1 handle<" in page
    resp = client.post(f"/contacts/{cid}/erase",
                       data={"confirm_name": " zoë kowalski ", "reason": "Asked by email"})
    assert resp.status_code == 302
    fresh()

    assert _found_anywhere() == []
    # Counts stay: the messages and response times remain as anonymous rows, the deal too.
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages_before
    assert db.session.scalar(select(func.count()).select_from(ResponseTime)) == responses_before
    assert _figures(manager) == figures_before
    assert db.session.scalar(select(Deal.value_minor)) == 50_000
    gone = db.session.get(Contact, cid)
    assert gone.name == "Erased person" and gone.erased_at is not None
    assert db.session.scalar(select(func.count()).select_from(SocialHandle)) == 0
    assert db.session.scalar(select(func.count()).select_from(Note)) == 0
    assert db.session.scalar(select(func.count()).select_from(MessageMedia)) == 0
    assert db.session.scalar(select(Task.title)) == "Follow up with [erased]"
    # The audit log keeps that it happened, who did it and why.
    erase_event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "erase"))
    assert erase_event.actor_id == admin.id and erase_event.changes["reason"] == "Asked by email"
    erasure = db.session.scalar(select(Erasure))
    assert erasure.removed["messages"] == 2 and erasure.suppressing
    assert db.session.scalar(select(func.count()).select_from(Suppression)) >= 5
    # What remains of them says so, and the consent history reads "erased on …".
    page = client.get(f"/contacts/{cid}").get_data(as_text=True)
    assert "This person&#39;s data was erased" in page or "This person's data was erased" in page
    assert "Erased on" in page and "Asked by email" in page
    assert client.get(f"/contacts?q=kowalski").get_data(as_text=True).count("Erased") == 0
    # What remains is read-only: nothing is written to it any more.
    for url, data in ((f"/contacts/{cid}/restore", {}), (f"/contacts/{cid}/notes", {"body": "x"}),
                      (f"/contacts/{cid}/edit", {"name": "Zoë Kowalski", "kind": "contact"}),
                      (f"/contacts/{cid}/messages", {"platform": "instagram", "direction": "in",
                                                    "body": "hello again"})):
        assert client.post(url, data=data).status_code == 404, url
    fresh()
    assert db.session.get(Contact, cid).name == "Erased person"


def test_erase_needs_the_name_typed_and_a_reason(admin, rep, auth, client, db):
    contact = factories.ContactFactory(name="Ana Lima", email="ana@x.test")
    db.session.commit()
    auth.login(admin)
    page = client.post(f"/contacts/{contact.id}/erase",
                       data={"confirm_name": "Ana", "reason": "request"}).get_data(as_text=True)
    assert "Type the contact" in page and "Ana Lima" in page
    page = client.post(f"/contacts/{contact.id}/erase",
                       data={"confirm_name": "Ana Lima", "reason": ""}).get_data(as_text=True)
    assert "Say why" in page
    fresh()
    assert db.session.get(Contact, contact.id).erased_at is None
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0


def test_only_admins_erase_and_reps_cannot_export(admin, manager, rep, auth, client, db):
    mine = factories.ContactFactory(name="Ana Lima", owner_id=rep.id)
    other = factories.UserFactory(role="rep")
    hidden = factories.ContactFactory(name="Ben Ode", owner_id=other.id)
    db.session.commit()
    auth.login(rep)
    for url in (f"/contacts/{mine.id}/erase", f"/contacts/{mine.id}/data-export"):
        assert client.get(url).status_code == 404
        assert client.post(url, data={"confirm_name": "Ana Lima", "reason": "x y z"}
                           ).status_code == 404
    assert client.get("/admin/privacy").status_code == 404
    auth.login(manager)
    assert client.get(f"/contacts/{mine.id}/erase").status_code == 404
    assert client.post(f"/contacts/{mine.id}/erase",
                       data={"confirm_name": "Ana Lima", "reason": "x y z"}).status_code == 404
    assert client.get(f"/contacts/{hidden.id}/data-export").status_code == 200
    assert client.get("/contacts/99999/data-export").status_code == 404
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Erasure)) == 0
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_erase_refuses_a_post_without_csrf_token(app, admin, db):
    from config import TestConfig
    from crm import create_app
    from crm.accounts import sessions

    contact = factories.ContactFactory(name="Ana Lima")
    csrf_app = create_app(type("C", (TestConfig,), {
        "WTF_CSRF_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}))
    client = csrf_app.test_client()
    secret = sessions.start(admin)
    db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = secret
    with csrf_app.app_context():
        resp = client.post(f"/contacts/{contact.id}/erase",
                           data={"confirm_name": "Ana Lima", "reason": "Asked by phone"})
        assert resp.status_code == 400
        assert client.post(f"/contacts/{contact.id}/data-export").status_code == 400
    fresh()
    assert db.session.get(Contact, contact.id).erased_at is None
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


# -- erasure sticks -----------------------------------------------------------------------------
def test_an_erased_person_cannot_be_added_again_until_lifted(admin, rep, auth, client, db):
    contact = _person(admin, rep)
    privacy.erase(admin, contact, "Asked by email")
    db.session.commit()
    for data, handles, field in (({"name": "Z K", "email": EMAIL.upper()}, (), "email"),
                                 ({"name": "Z K", "phone": "+44 (7700) 900-123"}, (), "phone"),
                                 ({"name": "Z K"}, [{"platform": "instagram",
                                                      "handle": "@" + HANDLE}],
                                  "handles-0-handle")):
        with pytest.raises(ErasedPerson) as refused:
            contact_services.create_contact(rep, data, handles=handles)
        assert refused.value.field == field
        db.session.rollback()
    # The contact form says why, naming the field, and creates nothing.
    auth.login(rep)
    page = client.post("/contacts/new", data={"name": "Zed", "kind": "contact", "email": EMAIL,
                                              "currency": "USD"}).get_data(as_text=True)
    assert "erased at their request" in page, re.findall(r'class="error"[^<]*', page)
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1

    auth.login(admin)
    erasure = db.session.scalar(select(Erasure))
    assert client.post(f"/admin/privacy/erasures/{erasure.id}/lift").status_code == 302
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0
    assert "lift_suppression" in db.session.scalars(select(AuditEvent.action)).all()
    contact_services.create_contact(rep, {"name": "Zoë again", "email": EMAIL})
    db.session.commit()


def test_a_reimported_export_and_csv_create_nothing(admin, rep, auth, client, db, tmp_path):
    export_path = ig_export(tmp_path / "ig", {
        "zoekowalski_1784999000": (NAME, [ME, NAME], [
            ig_message(NAME, 1_700_000_000_000, f"Hello, {SECRET}"),
            ig_message(ME, 1_700_000_060_000, "Hi Zoë")]),
        "other_1784999111": ("Ana Lima", [ME, "Ana Lima"], [
            ig_message("Ana Lima", 1_700_000_000_000, "Hi there")])})
    auth.login(admin)
    import_dm(client, export_path)
    zoe = db.session.scalar(select(Contact).where(Contact.name == NAME))
    zoe.email = EMAIL
    db.session.commit()
    privacy.erase(admin, zoe, "Asked by email")
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(Message))

    rid = run_id(upload_dm(client, export_path))
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "1 thread skipped: erased person" in page
    assert "Kowalski" not in page
    assert "kowalski" not in json.dumps(db.session.get(ImportRun, rid).options).lower()
    client.post(f"/imports/{rid}/confirm")
    fresh()
    run = db.session.get(ImportRun, rid)
    assert run.status == "done", run.problems
    assert db.session.scalar(select(func.count()).select_from(Message)) == before
    assert db.session.scalar(select(func.count()).select_from(Contact).where(
        Contact.erased_at.is_(None))) == 1    # Ana only

    csv_run = run_id(upload_csv(client, f"Name,Email\nZoe K,{EMAIL}\nBea Nu,bea@x.test\n"))
    client.post(f"/imports/{csv_run}/mapping",
                data={"col-0": "name", "col-1": "email"})
    page = client.get(f"/imports/{csv_run}").get_data(as_text=True)
    assert "1 row skipped: erased person" in page
    client.post(f"/imports/{csv_run}/confirm")
    fresh()
    names = set(db.session.scalars(select(Contact.name)))
    assert "Bea Nu" in names and "Zoe K" not in names
    assert "1 row skipped: erased person." in db.session.get(ImportRun, csv_run).problems


def test_a_waiting_preview_that_names_them_is_cancelled(admin, rep, auth, client, db):
    contact = factories.ContactFactory(name=NAME, email=EMAIL)
    db.session.commit()
    auth.login(admin)
    rid = run_id(upload_csv(client, f"Name,Email\n{NAME},{EMAIL}\n"))
    privacy.erase(admin, db.session.get(Contact, contact.id), "Asked")
    db.session.commit()
    run = db.session.get(ImportRun, rid)
    assert run.status == "cancelled" and run.stored_path is None
    assert "kowalski" not in json.dumps(run.options).lower()


# -- access request ------------------------------------------------------------------------------
def test_export_holds_every_kind_of_record_and_is_audited(admin, manager, rep, auth, client,
                                                          db):
    contact = _person(admin, rep)
    auth.login(manager)
    page = client.get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert "Export this person" in page and "Erase this person" not in page
    assert client.post(f"/contacts/{contact.id}/data-export").status_code == 302
    page = client.get(f"/contacts/{contact.id}/data-export").get_data(as_text=True)
    assert "Download the zip" in page
    fragment = client.get(f"/contacts/{contact.id}/data-export",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "Download the zip" in fragment
    link = fragment.split('href="')[1].split('"')[0]
    resp = client.get(link)
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    zf = zipfile.ZipFile(io.BytesIO(resp.data))
    names = set(zf.namelist())
    assert {"summary.html", "data.json"} <= names
    data = json.loads(zf.read("data.json"))
    for table in export.TABLES:
        assert f"csv/{table}.csv" in names
        assert data[table], f"{table} is empty"
    assert data["contact"][0]["email"] == EMAIL
    assert any(SECRET in m["text"] for m in data["messages"])
    assert data["consent_history"][0]["evidence_message"].startswith("Hi, Zoë here")
    assert data["attachments"][0]["kind"] == "image"
    assert data["campaign_memberships"][0]["campaign"] == "Spring ceramics"
    assert PERSON_ID in data["channel_events"][0]["payload"]
    assert NAME in zf.read("summary.html").decode()
    fresh()
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "export_requested" in actions and "export_downloaded" in actions


def test_export_link_expires_and_rep_cannot_use_it(admin, manager, rep, auth, client, db,
                                                   app, monkeypatch):
    contact = _person(admin, rep)
    auth.login(manager)
    client.post(f"/contacts/{contact.id}/data-export")
    fragment = client.get(f"/contacts/{contact.id}/data-export",
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    link = fragment.split('href="')[1].split('"')[0]
    auth.login(rep)
    assert client.get(link).status_code == 404
    auth.login(manager)
    assert client.get(link.replace("download/", "download/x")).status_code == 404
    fresh()
    job = db.session.scalar(select(Job).where(Job.task == "privacy.export"))
    job.finished_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    assert client.get(link).status_code == 404
    assert "link has expired" in client.get(f"/contacts/{contact.id}/data-export").get_data(
        as_text=True)
    assert export.forget_expired() == 1


# -- retention -----------------------------------------------------------------------------------
def test_retention_erases_exactly_what_is_past_the_limit(admin, rep, db):
    now = utcnow()
    old, recent = (factories.ContactFactory(name=n, email=f"{n.lower()}@x.test")
                   for n in ("Oldarch", "Newarch"))
    old.archived_at, recent.archived_at = now - timedelta(days=400), now - timedelta(days=10)
    live = factories.ContactFactory(name="Livey")
    kept_for_consent = factories.ContactFactory(name="Optedout")
    kept_for_consent.archived_at = now - timedelta(days=400)
    consent.change_consent(None, kept_for_consent, status="opted_out", source="Email")
    for label, days in (("old", 400), ("recent", 10)):
        conv = conversations.get_or_create_conversation(live, "instagram", f"t-{label}")
        ingest.ingest(None, conv, [ingest.IncomingMessage(
            "in", now - timedelta(days=days), f"{label} words")], source=ingest.IMPORT)
        conv.state, conv.closed_at = "closed", now - timedelta(days=days)
    db.session.commit()
    assert retention.apply() == {"contacts": 0, "conversations": 0, "messages": 0}   # off
    settings.put("retention_closed_conversation_days", 365)
    settings.put("retention_archived_contact_days", 365)
    db.session.commit()
    report = retention.apply()
    assert report == {"contacts": 1, "conversations": 1, "messages": 1}
    fresh()
    assert db.session.get(Contact, old.id).erased_at is not None
    assert db.session.get(Contact, recent.id).erased_at is None
    assert db.session.get(Contact, kept_for_consent.id).erased_at is None
    assert set(db.session.scalars(select(Message.body))) == {"", "recent words"}
    # Retention keeps nobody out: the old contact's email may come back.
    assert db.session.scalar(select(func.count()).select_from(Suppression)) == 0
    assert retention.apply() == {"contacts": 0, "conversations": 0, "messages": 0}
    assert "Retention:" in db.session.scalar(select(AuditEvent.summary).where(
        AuditEvent.action == "retention"))


def test_admin_sets_retention_and_sees_erasures(admin, rep, auth, client, db):
    auth.login(admin)
    page = client.get("/admin/privacy").get_data(as_text=True)
    assert "Retention" in page and "Nobody has been erased yet" in page
    page = client.post("/admin/privacy/retention", data={
        "conversations": "-3", "contacts": "", "consent_evidence": "1095"}).get_data(as_text=True)
    assert "Number must be between" in page
    assert db.session.scalars(select(Setting)).all() == []
    assert client.post("/admin/privacy/retention", data={
        "conversations": "730", "contacts": "365", "consent_evidence": "1095"}).status_code == 302
    saved = {s.key: s.value for s in db.session.scalars(select(Setting))}
    assert saved["retention_closed_conversation_days"] == 730
    assert saved["retention_archived_contact_days"] == 365


def test_the_daily_job_reports_what_it_removed(admin, db):
    from crm import jobs
    from crm.jobs import runner

    assert any(k.endswith("periodic.privacy.retention") for k in jobs.huey._registry._registry)
    old = factories.ContactFactory(name="Oldarch", archived_at=utcnow() - timedelta(days=40))
    settings.put("retention_archived_contact_days", 30)
    db.session.commit()
    runner.run_periodic("privacy.retention")
    fresh()
    job = db.session.scalar(select(Job).where(Job.task == "privacy.retention"))
    assert job.status == "done" and job.result["contacts"] == 1
    assert job.result["summary"].startswith("1 archived contact and 0 closed conversations")
    assert db.session.get(Contact, old.id).erased_at is not None


def test_the_api_does_not_bring_an_erased_person_back(admin, rep, db, client):
    from tests.api.conftest import Api, make_token

    contact = _person(admin, rep)
    privacy.erase(admin, contact, "Asked by email")
    db.session.commit()
    api = Api(client, make_token(rep))
    resp = api.post("/api/v1/contacts", json={"name": "Zed", "email": EMAIL})
    assert resp.status_code == 422, resp.json
    assert "erased at their request" in json.dumps(resp.json)
    resp = api.post("/api/v1/contacts", json={
        "name": "Zed", "handles": [{"platform": "instagram", "handle": HANDLE}]})
    assert resp.status_code == 422, resp.json
    fresh()
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
