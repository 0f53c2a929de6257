"""The import after a check: rows the check created are not looked up again when nothing
has changed since; any change to contacts or handles in between makes it decide again."""
import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts.consent import change_consent
from crm.contacts.models import ConsentEvent, Contact, SocialHandle
from crm.extensions import db
from crm.imports.contacts_csv import services as csv_service
from crm.imports.models import ImportRun
from tests import factories
from tests.test_imports_csv import by_name, check, confirm
from tests.test_imports_support import import_storage  # noqa: F401 (fixture)

FILE = ("Name,Email,Instagram,Tags,Consent,Phone\n"
        "Maya Lindqvist,maya@example.com,maya.l,beauty,opted_out,\n"
        "Sam Okafor,sam@example.com,sam.o,,,\n"
        "Broken Row,not-an-email,,,,\n"
        "Known Person,,known.p,vip,,+1 555 0100\n"
        "Maya Lindqvist,,maya.l,,,+44 7700 900123\n"
        "Lena Fischer,lena@example.com,,,opted_in,\n")


@pytest.fixture
def looked_up(monkeypatch):
    """Names of the rows the import looks up in the database."""
    names: list[str] = []
    real = csv_service.lookups

    def spy(actor, rows):
        names.extend(r.name for r in rows)
        return real(actor, rows)

    monkeypatch.setattr(csv_service, "lookups", spy)
    return names


def state() -> dict:
    """Everything the file writes, by contact name."""
    out = {}
    for c in db.session.scalars(select(Contact).order_by(Contact.name)):
        out[c.name] = (c.email, c.phone, sorted(h.handle for h in c.handles),
                       sorted(t.name for t in c.tags), c.consent_status, c.owner_id,
                       db.session.scalar(select(func.count()).select_from(ConsentEvent)
                                         .where(ConsentEvent.contact_id == c.id)),
                       db.session.scalar(select(func.count()).select_from(AuditEvent).where(
                           AuditEvent.entity_type == "contact", AuditEvent.entity_id == c.id,
                           AuditEvent.action == "import")))
    return out


@pytest.mark.parametrize("changed", [False, True])
def test_import_reuses_the_checks_decisions_with_the_same_result(auth, rep, looked_up,
                                                                 changed):
    client = auth.login(rep)
    known = factories.ContactFactory(name="Known Person", owner_id=rep.id)
    factories.HandleFactory(contact=known, handle="known.p")
    db.session.commit()
    rid = check(client, FILE)
    assert db.session.get(ImportRun, rid).options["check"]["create"] == 3
    if changed:  # an unrelated contact: the import cannot trust the check's decisions
        factories.ContactFactory(name="Unrelated", owner_id=rep.id)
        db.session.commit()
    looked_up.clear()
    run = confirm(client, rid, valid_only=True)
    assert run.status == "done", run.problems
    assert run.counts == {"rows": 6, "contacts_created": 3, "contacts_updated": 2,
                          "unchanged": 0, "rows_failed": 1}
    if changed:
        assert set(looked_up) == {"Known Person", "Lena Fischer", "Maya Lindqvist",
                                  "Sam Okafor"}
    else:  # only the rows that matched a contact (or a row above them) are looked up; the
        # second Maya row again once the first one is written
        assert looked_up == ["Known Person", "Maya Lindqvist", "Maya Lindqvist"]
    got = state()
    got.pop("Unrelated", None)
    assert got == {
        "Known Person": (None, "+1 555 0100", ["known.p"], ["vip"], "unknown", rep.id, 0, 1),
        "Lena Fischer": ("lena@example.com", None, [], [], "opted_in", rep.id, 1, 1),
        "Maya Lindqvist": ("maya@example.com", "+44 7700 900123", ["maya.l"], ["beauty"],
                           "opted_out", rep.id, 1, 2),
        "Sam Okafor": ("sam@example.com", None, ["sam.o"], [], "unknown", rep.id, 0, 1),
    }


def test_a_handle_added_after_the_check_is_matched_not_duplicated(auth, rep, looked_up):
    client = auth.login(rep)
    rid = check(client, "Name,Instagram,Phone\nKai Berg,kai.berg,+49 30 1234\nAnn Lee,ann.lee,\n")
    assert db.session.get(ImportRun, rid).options["check"]["create"] == 2
    kai = factories.ContactFactory(name="Kai B.", owner_id=rep.id, phone="+49 30 9999")
    factories.HandleFactory(contact=kai, handle="kai.berg")
    db.session.commit()
    run = confirm(client, rid)
    assert run.status == "done"
    assert run.counts["contacts_created"] == 1 and run.counts["contacts_updated"] == 1
    assert db.session.scalars(select(SocialHandle.contact_id)
                              .where(SocialHandle.handle == "kai.berg")).all() == [kai.id]
    db.session.refresh(kai)
    assert kai.phone == "+49 30 1234" and kai.name == "Kai Berg"
    assert sorted(db.session.scalars(select(Contact.name))) == ["Ann Lee", "Kai Berg"]


def test_an_email_changed_after_the_check_is_matched(auth, rep, looked_up):
    client = auth.login(rep)
    pat = factories.ContactFactory(name="Pat Shah", email="pat.old@example.com",
                                   owner_id=rep.id)
    db.session.commit()
    rid = check(client, "Name,Email,Company\nPat Shah,pat@example.com,Northwind\n")
    assert db.session.get(ImportRun, rid).options["check"]["create"] == 1
    pat.email = "pat@example.com"  # edited by hand between the check and the import
    db.session.commit()
    run = confirm(client, rid)
    assert run.counts["contacts_created"] == 0 and run.counts["contacts_updated"] == 1
    assert db.session.scalars(select(Contact)).all() == [pat]
    db.session.refresh(pat)
    assert pat.company == "Northwind"


def test_an_opt_out_recorded_after_the_check_is_not_overridden(auth, rep, looked_up):
    client = auth.login(rep)
    rid = check(client, "Name,Instagram,Consent\nMaya L,maya,opted_in\nSam O,sam.o,\n")
    assert db.session.get(ImportRun, rid).options["check"]["create"] == 2
    maya = factories.ContactFactory(name="Maya L", owner_id=rep.id)
    factories.HandleFactory(contact=maya, handle="maya")
    db.session.flush()
    change_consent(rep, maya, status="opted_out", source="reply")
    db.session.commit()
    run = confirm(client, rid, valid_only=True)
    assert run.status == "done"
    assert run.counts["rows_failed"] == 1 and run.counts["contacts_created"] == 1
    assert "cannot opt them back in" in run.problems[0]
    db.session.refresh(maya)
    assert maya.consent_status == "opted_out"
    assert db.session.scalar(select(func.count()).select_from(Contact)
                             .where(Contact.name == "Maya L")) == 1


def test_an_opt_out_in_the_file_survives_a_later_silent_import(auth, rep, looked_up):
    client = auth.login(rep)
    confirm(client, check(client, "Name,Instagram,Consent\nZoe N,zoe.n,opted out\n"))
    rid = check(client, "Name,Instagram,Phone\nZoe N,zoe.n,+1 555 0199\nNew One,new.one,\n")
    looked_up.clear()
    run = confirm(client, rid)
    assert run.counts["contacts_updated"] == 1 and run.counts["contacts_created"] == 1
    assert looked_up == ["Zoe N"]
    zoe = by_name("Zoe N")
    assert zoe.consent_status == "opted_out" and zoe.phone == "+1 555 0199"


def test_a_failed_import_after_a_check_writes_nothing(auth, rep, monkeypatch):
    client = auth.login(rep)
    rid = check(client, "Name,Instagram\n" + "".join(f"P {i},p.{i}\n" for i in range(2500)))
    calls = []
    real = csv_service.csv_write.write

    def write(*args, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(*args, **kw)

    monkeypatch.setattr(csv_service.csv_write, "write", write)
    run = confirm(client, rid)
    assert run.status == "failed" and "Nothing was imported" in run.problems[0]
    assert db.session.scalars(select(Contact)).all() == []
    assert db.session.scalars(select(SocialHandle)).all() == []


def test_the_cycle_collector_is_paused_only_while_rows_are_written(auth, rep, monkeypatch):
    import gc

    client = auth.login(rep)
    rid = check(client, "Name,Instagram\nAnn Lee,ann.lee\n")
    seen = []

    def write(*args, **kw):
        seen.append(gc.isenabled())
        raise RuntimeError("disk full")

    monkeypatch.setattr(csv_service.csv_write, "write", write)
    run = confirm(client, rid)
    assert run.status == "failed" and seen == [False]
    assert gc.isenabled()
