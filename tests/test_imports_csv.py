"""Contacts from CSV: column guesses, encodings, row errors, consent, round trip with export."""
import codecs
import csv
import io

import pytest
from sqlalchemy import delete, select

from crm.contacts.consent import change_consent
from crm.contacts.models import ConsentEvent, Contact, SocialHandle, contact_tags
from crm.extensions import db
from crm.imports.contacts_csv.read import guess_mapping
from crm.imports.models import ImportRun
from tests import factories
from tests.test_imports_support import (import_storage,  # noqa: F401 (fixture)
                                        fresh, run_id, upload_csv)


def check(client, text, name="contacts.csv", mapping=None, **form) -> int:
    """Upload and check every row with the guessed (or given) mapping; returns the run id."""
    rid = run_id(upload_csv(client, text, name, **form))
    run = db.session.get(ImportRun, rid)
    mapping = mapping or run.options["mapping"]
    resp = client.post(f"/imports/{rid}/mapping",
                       data={f"col-{i}": m for i, m in enumerate(mapping)})
    assert resp.status_code == 302
    fresh()
    return rid


def confirm(client, rid, valid_only=False) -> ImportRun:
    client.post(f"/imports/{rid}/confirm", data={"valid_only": "1"} if valid_only else {})
    fresh()
    return db.session.get(ImportRun, rid)


def import_csv(client, text, name="contacts.csv", **kw) -> ImportRun:
    return confirm(client, check(client, text, name, **kw), valid_only=True)


def by_name(name) -> Contact:
    return db.session.scalars(select(Contact).where(Contact.name == name)).one()


def test_column_guesses():
    headers = ["Full Name", "E-mail", "Mobile", "Company", "IG", "Twitter handle", "TikTok",
               "Tags", "Consent", "Do not contact", "Owner", "Notes", "Niche", "Lead source",
               "Type", "LinkedIn URL", "Favourite colour", "First name", "Last name",
               "Rate per post", "Currency", "Rapport ID", "WhatsApp number", "Email"]
    assert guess_mapping(headers) == [
        "name", "email", "phone", "company", "handle:instagram", "handle:x", "handle:tiktok",
        "tags", "consent", "do_not_contact", "owner_email", "notes", "niche", "lead_source",
        "kind", "handle:linkedin", "", "first_name", "last_name", "rate_per_post", "currency",
        "rapport_id", "handle:whatsapp", ""]  # a second email column is left for the user


@pytest.mark.parametrize("encoding,delimiter", [
    ("utf-8", ","), ("utf-8-sig", ","), ("cp1252", ";"), ("utf-16", "\t"), ("latin-1", ","),
])
def test_encodings_and_delimiters(auth, rep, encoding, delimiter):
    client = auth.login(rep)
    rows = [["Name", "Company", "Instagram"], ["Renée Dubois", "Café Zoë", "renee.d"]]
    if encoding == "latin-1":
        rows.append(["Ægir \x81", "", ""])  # \x81 is not cp1252: only latin-1 reads it
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    run = import_csv(client, buf.getvalue().encode(encoding))
    assert run.status == "done", run.problems
    contact = by_name("Renée Dubois")
    assert contact.company == "Café Zoë" and contact.handles[0].handle == "renee.d"
    assert contact.owner_id == rep.id


def test_row_errors_name_row_and_column_and_valid_rows_only(auth, rep):
    client = auth.login(rep)
    text = ("Name,E-mail,Kind,Instagram\n"
            "Good One,good@example.com,lead,good.one\n"
            "Bad Email,not-an-email,lead,\n"
            "Bad Kind,kind@example.com,robot,\n"
            "Bad Handle,,influencer,has space\n"
            ",nobody@example.com,,\n"
            "Good Two,,,good.two\n")
    rid = check(client, text)
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "rows with a problem" in page
    for row, column, reason in [(3, "E-mail", "“not-an-email” is not an email address"),
                                (4, "Kind", "“robot” is not a kind"),
                                (5, "Instagram", "“has space” is not a valid handle"),
                                (6, "Name", "the name is empty")]:
        assert f"<td class=\"num\">{row}</td><td>{column}</td><td>{reason}" in page
    run = confirm(client, rid)                         # without choosing "valid rows only"
    assert run.status == "previewed" and db.session.scalars(select(Contact)).all() == []
    run = confirm(client, rid, valid_only=True)
    assert run.status == "done"
    assert sorted(db.session.scalars(select(Contact.name))) == ["Good One", "Good Two"]
    assert run.counts["rows_failed"] == 4 and run.counts["contacts_created"] == 2
    assert "Row 3, column E-mail: “not-an-email” is not an email address." in run.problems
    assert by_name("Good One").kind == "lead"


def test_create_update_and_unchanged(auth, rep):
    client = auth.login(rep)
    maya = factories.ContactFactory(name="Maya Lindqvist", company="Glow", owner_id=rep.id)
    factories.HandleFactory(contact=maya, platform="instagram", handle="maya")
    sam = factories.ContactFactory(name="Sam Okafor", email="sam@example.com", owner_id=rep.id)
    same = factories.ContactFactory(name="Jo Park", email="jo@example.com", owner_id=rep.id)
    db.session.commit()
    versions = {c.id: c.version for c in (maya, sam, same)}
    text = ("Name,Email,Phone,Company,Instagram,Tags\n"
            "Maya Lindqvist,,+44 7700 900123,,@Maya,vip\n"       # by handle; empty cells keep
            "Samuel Okafor,SAM@example.com,,,sam.okafor,\n"      # by email; gains a handle
            "Jo Park,jo@example.com,,,,\n"                       # nothing new
            "Lena Fischer,lena@example.com,,,lena.f,beauty\n")   # new
    run = import_csv(client, text)
    assert run.counts == {"rows": 4, "contacts_created": 1, "contacts_updated": 2,
                          "unchanged": 1, "rows_failed": 0}
    db.session.refresh(maya)
    assert (maya.phone, maya.company, [t.name for t in maya.tags]) == ("+44 7700 900123",
                                                                        "Glow", ["vip"])
    db.session.refresh(sam)
    assert sam.name == "Samuel Okafor" and [h.handle for h in sam.handles] == ["sam.okafor"]
    assert "samuel" in sam.search_text and sam.version == versions[sam.id] + 1
    assert db.session.get(Contact, same.id).version == versions[same.id]
    lena = by_name("Lena Fischer")
    assert lena.first_name == "Lena" and [t.name for t in lena.tags] == ["beauty"]
    assert db.session.scalars(select(Contact).where(Contact.search_text.contains("lena.f"))).one()


def test_same_person_twice_in_one_file(auth, rep):
    client = auth.login(rep)
    text = "Name,Instagram,Phone\nKai Berg,kai.berg,\nKai Berg,kai.berg,+49 30 1234\n"
    rid = check(client, text)
    assert db.session.get(ImportRun, rid).options["check"]["create"] == 1
    assert db.session.get(ImportRun, rid).options["check"]["update"] == 1
    run = confirm(client, rid)
    assert run.status == "done"
    kai = db.session.scalars(select(Contact)).one()
    assert kai.phone == "+49 30 1234"


def test_opt_out_applied_and_never_undone_by_a_file(auth, rep):
    client = auth.login(rep)
    run = import_csv(client, "Name,Instagram,Consent\nMaya L,maya,opted out\nSam O,sam.o,yes\n",
                     name="spring.csv")
    maya, sam = by_name("Maya L"), by_name("Sam O")
    assert (maya.consent_status, sam.consent_status) == ("opted_out", "opted_in")
    event = db.session.scalars(select(ConsentEvent).where(ConsentEvent.contact_id == maya.id)).one()
    assert event.source == "CSV import spring.csv" and event.to_status == "opted_out"
    # A later file that says nothing about consent leaves it alone.
    run = import_csv(client, "Name,Instagram,Phone,Consent\nMaya L,maya,+1 555 0100,\n")
    assert run.counts["contacts_updated"] == 1
    import_csv(client, "Name,Instagram\nMaya L,maya\n")
    db.session.refresh(maya)
    assert maya.consent_status == "opted_out" and maya.phone == "+1 555 0100"
    # A file cannot opt her back in: the row fails with the reason, the rest imports.
    rid = check(client, "Name,Instagram,Consent\nMaya L,maya,opted_in\nNew Person,new.p,opted_in\n")
    summary = db.session.get(ImportRun, rid).options["check"]
    assert summary["fail"] == 1
    assert "opted out" in summary["failures"][0][2] and "cannot opt them back in" in \
        summary["failures"][0][2]
    confirm(client, rid, valid_only=True)
    db.session.refresh(maya)
    assert maya.consent_status == "opted_out"
    assert db.session.scalars(select(ConsentEvent).where(
        ConsentEvent.contact_id == maya.id)).all() == [event]


def test_do_not_contact_cannot_be_lifted_by_a_file(auth, rep):
    client = auth.login(rep)
    kim = factories.ContactFactory(name="Kim Lee", email="kim@example.com", owner_id=rep.id)
    change_consent(rep, kim, do_not_contact=True, source="phone call")
    db.session.commit()
    rid = check(client, "Name,Email,Do not contact\nKim Lee,kim@example.com,no\n")
    failure = db.session.get(ImportRun, rid).options["check"]["failures"][0]
    assert failure[:2] == [2, "Do not contact"] and "do-not-contact" in failure[2]
    # An opt-out and a later opt-in in the same file: the later row is refused.
    rid = check(client, "Name,Instagram,Consent\nAnn,ann.x,opted_out\nAnn,ann.x,opted_in\n")
    summary = db.session.get(ImportRun, rid).options["check"]
    assert summary["fail"] == 1 and summary["failures"][0][0] == 3


def test_mapping_needs_a_name_and_one_column_per_field(auth, rep):
    client = auth.login(rep)
    rid = run_id(upload_csv(client, "Email,Mail\na@example.com,b@example.com\n"))
    resp = client.post(f"/imports/{rid}/mapping", data={"col-0": "email", "col-1": ""},
                       follow_redirects=True)
    assert "Map a column to Name" in resp.get_data(as_text=True)
    resp = client.post(f"/imports/{rid}/mapping", data={"col-0": "email", "col-1": "email"},
                       follow_redirects=True)
    assert "are both mapped to Email" in resp.get_data(as_text=True)
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "What is in each column?" in page and "a@example.com" in page


@pytest.mark.parametrize("raw,message", [
    (b"", "empty"), (b"PK\x03\x04\x14\x00\x06\x00binary", "not a text spreadsheet"),
])
def test_files_that_are_not_spreadsheets(auth, rep, raw, message):
    client = auth.login(rep)
    resp = upload_csv(client, raw, name="people.xlsx")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "people.xlsx" in body and message in body
    assert db.session.scalars(select(ImportRun)).all() == []


def test_permissions_and_owners(auth, rep, other_rep):
    theirs = factories.ContactFactory(name="Their Maya", email="maya@example.com",
                                      owner_id=other_rep.id)
    factories.HandleFactory(contact=theirs, platform="instagram", handle="their.maya")
    db.session.commit()
    version = theirs.version
    client = auth.login(rep)
    rid = check(client, "Name,Email,Instagram,Owner\n"
                        "Maya,maya@example.com,,\n"                 # other rep's email: a new one
                        "Maya,,their.maya,\n"                       # their handle: refused
                        f"Pat,,pat.x,{other_rep.email}\n")          # reps import for themselves
    summary = db.session.get(ImportRun, rid).options["check"]
    assert summary["create"] == 1 and summary["fail"] == 2
    reasons = {row: reason for row, _, reason in summary["failures"]}
    assert "cannot see" in reasons[3] and "Their Maya" not in reasons[3]
    assert reasons[4] == "reps can only import contacts they own"
    confirm(client, rid, valid_only=True)
    assert db.session.get(Contact, theirs.id).version == version
    auth.logout()
    client = auth.login(other_rep)
    assert client.get(f"/imports/{rid}").status_code == 404
    assert client.post(f"/imports/{rid}/mapping").status_code == 404
    assert client.post(f"/imports/{rid}/remap").status_code == 404


def test_managers_assign_owners_from_the_file(auth, manager, rep):
    client = auth.login(manager)
    run = import_csv(client, f"Name,Owner email\nA Person,{rep.email}\nB Person,\n",
                     owner_id=str(manager.id))
    assert run.status == "done"
    assert by_name("A Person").owner_id == rep.id and by_name("B Person").owner_id == manager.id


def _export(client, **args) -> str:
    resp = client.get("/contacts/export.csv", query_string=args)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    return resp.get_data(as_text=True)


def _without_ids(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    return [r[:-1] for r in rows]  # the last column is the Rapport ID


def test_export_imports_back_unchanged(auth, manager, rep):
    client = auth.login(manager)
    a = factories.ContactFactory(name="Renée Dubois", kind="influencer", email="renee@example.com",
                                 phone="+33 6 12 34 56 78", company="Café Zoë", niche="food",
                                 rate_per_post_minor=125050, currency="EUR", owner_id=rep.id,
                                 notes="Met at the show.\nLoves \"quotes\", commas; and =signs")
    factories.HandleFactory(contact=a, platform="instagram", handle="renee.eats")
    factories.HandleFactory(contact=a, platform="instagram", handle="renee.travels")
    factories.HandleFactory(contact=a, platform="whatsapp", handle="+33612345678")
    b = factories.ContactFactory(name="=HYPERLINK(\"x\")", kind="lead", lead_source="-webinar",
                                 estimated_value_minor=500000)
    c = factories.ContactFactory(name="Sam Okafor", first_name="Samuel")
    factories.HandleFactory(contact=c, platform="x", handle="id:29847561")
    from crm.contacts.services import set_tags
    set_tags(a, ["vip", "beauty"])
    change_consent(manager, a, status="opted_out", source="DM")
    change_consent(manager, b, do_not_contact=True, source="call")
    change_consent(manager, c, status="opted_in", source="form")
    db.session.commit()
    exported = _export(client)
    assert exported.startswith("\ufeffName,First name,Kind,Email")
    assert "'=HYPERLINK" in exported and "'-webinar" in exported and "'+33" in exported
    # Back into the same workspace: every row is already up to date; nothing to import.
    rid = check(client, exported.encode("utf-8"), name="export.csv")
    summary = db.session.get(ImportRun, rid).options["check"]
    assert (summary["unchanged"], summary["create"], summary["update"], summary["fail"]) == \
        (3, 0, 0, 0), summary["failures"]
    resp = client.post(f"/imports/{rid}/confirm", follow_redirects=True)
    assert "Nothing to import" in resp.get_data(as_text=True)
    # Into an empty workspace: the same file comes out again.
    for table in (contact_tags, SocialHandle.__table__, ConsentEvent.__table__,
                  Contact.__table__):
        db.session.execute(delete(table))
    db.session.commit()
    run = import_csv(client, exported.encode("utf-8"), name="export.csv")
    assert run.counts["contacts_created"] == 3, run.problems
    assert _without_ids(_export(client)) == _without_ids(exported)
    assert by_name("Renée Dubois").consent_status == "opted_out"


def test_export_follows_filters_and_scope(auth, rep, other_rep):
    mine = factories.ContactFactory(name="Mine Influencer", kind="influencer", owner_id=rep.id)
    factories.ContactFactory(name="Mine Lead", kind="lead", owner_id=rep.id)
    factories.ContactFactory(name="Unassigned One", kind="influencer")
    factories.ContactFactory(name="Not Mine", kind="influencer", owner_id=other_rep.id)
    factories.ContactFactory(name="Archived Mine", owner_id=rep.id,
                             archived_at=mine.created_at)
    client = auth.login(rep)
    everything = _export(client)
    assert "Mine Lead" in everything and "Unassigned One" in everything
    assert "Not Mine" not in everything and "Archived Mine" not in everything
    influencers = _export(client, kind="influencer")
    names = [r[0] for r in csv.reader(io.StringIO(influencers.lstrip("\ufeff")))][1:]
    assert names == ["Mine Influencer", "Unassigned One"]
    assert "Archived Mine" in _export(client, archived="1")
    assert [r[0] for r in csv.reader(io.StringIO(_export(client, q="lead").lstrip("\ufeff")))][1:] \
        == ["Mine Lead"]


def test_export_streams_in_batches(auth, rep, monkeypatch):
    import crm.imports.contacts_csv.export as csv_export
    monkeypatch.setattr(csv_export, "BATCH", 2)
    for i in range(5):
        factories.ContactFactory(name=f"Person {i}", owner_id=rep.id)
    client = auth.login(rep)
    rows = list(csv.reader(io.StringIO(_export(client, sort="newest").lstrip("\ufeff"))))
    assert [r[0] for r in rows[1:]] == [f"Person {i}" for i in range(4, -1, -1)]


def test_import_is_audited(auth, rep):
    from crm.audit.models import AuditEvent
    client = auth.login(rep)
    run = import_csv(client, "Name\nAudit Me\n", name="audit.csv")
    contact = by_name("Audit Me")
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "import")).all()
    assert {(e.entity_type, e.entity_id) for e in events} == {("contact", contact.id),
                                                              ("import_run", run.id)}
    timeline = client.get(f"/contacts/{contact.id}/timeline").get_data(as_text=True)
    assert "Created by CSV import audit.csv" in timeline


def test_bom_codec_is_detected():
    from crm.imports.contacts_csv.read import detect_encoding
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.csv"
        path.write_bytes(codecs.BOM_UTF16_LE + "Name\n".encode("utf-16-le"))
        assert detect_encoding(path) == "utf-16"


def test_bulk_search_text_is_what_refresh_search_text_keeps():
    from types import SimpleNamespace

    from crm.contacts.services import refresh_search_text
    from crm.imports.contacts_csv.write import search_text

    for name, email, company, handles in [
            ("Maya Chen", "maya@example.com", "Glow Theory", ["mayachen", "maya.tt"]),
            ("  Renée  Dubois ", None, "", []), ("Zoë", "", None, ["", "ZOE_K"]),
            ("A", " X@Y.COM ", "  Acme\tInc ", ["b"])]:
        shadow = SimpleNamespace(name=name, email=email, company=company,
                                 handles=[SimpleNamespace(handle=h) for h in handles])
        refresh_search_text(shadow)
        assert search_text(name, email, company, handles) == shadow.search_text


def test_export_streams_every_row_as_a_server_runs_it(auth, rep, manager):
    """A server reads the streamed body after the view returned, outside its app context."""
    from tests.conftest import read_as_served
    for i in range(3):
        factories.ContactFactory(name=f"Served {i}", owner_id=rep.id)
    for user in (rep, manager):
        client = auth.login(user)
        status, body = read_as_served(client, "/contacts/export.csv?sort=name")
        assert status == 200
        names = [r[0] for r in csv.reader(io.StringIO(body.lstrip("\ufeff")))][1:]
        assert names == ["Served 0", "Served 1", "Served 2"]
        # The export's audit entry names no contact; Home still answers.
        status, home = read_as_served(client, "/")
        assert status == 200 and "Contacts exported to CSV" not in home


def test_every_road_that_writes_a_phone_keeps_its_last_nine_digits(auth, rep, admin):
    """A WhatsApp number finds the contact whose phone it is by the phone's last nine digits
    (crm.channels.people): the contact form, a CSV import (new and updated contacts) and an
    erasure each keep them with the phone."""
    from crm.contacts import services as contacts
    from crm.privacy import services as privacy

    typed = contacts.create_contact(rep, {"name": "Typed", "phone": "+44 7700 900-002"})
    short = contacts.create_contact(rep, {"name": "Short", "phone": "555 1234",
                                          "email": "short@example.com"})
    db.session.commit()
    assert (typed.phone_tail, short.phone_tail) == ("700900002", None)
    contacts.update_contact(rep, typed, {"phone": "(631) 555-1234"})
    db.session.commit()
    assert db.session.get(Contact, typed.id).phone_tail == "315551234"

    client = auth.login(rep)
    run = import_csv(client, "Name,Email,Phone\nShort,short@example.com,+1 212 555 0199\n"
                             "New Person,new@example.com,+33 6 12 34 56 78\n")
    assert (run.counts["contacts_created"], run.counts["contacts_updated"]) == (1, 1)
    db.session.expire_all()
    assert by_name("Short").phone_tail == "125550199"
    assert by_name("New Person").phone_tail == "612345678"

    privacy.erase(admin, by_name("New Person"), "Asked by email")
    db.session.commit()
    stored = db.session.execute(select(Contact.name, Contact.phone_tail)).all()
    assert ("New Person", "612345678") not in stored
    assert all(tail is None for name, tail in stored if name not in ("Typed", "Short"))
