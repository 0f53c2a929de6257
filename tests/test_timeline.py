"""A contact's timeline: every kind of thing that happened with them, newest first, paged by
keyset without gaps or repeats when entries share a timestamp, scoped by the policy, and one
statement a page."""
import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from crm.audit import services as audit
from crm.audit.models import AuditEvent
from crm.contacts import services as contacts
from crm.contacts.consent import change_consent
from crm.contacts.timeline import timeline_page
from crm.conversations import services as dms
from crm.core.timeutil import utcnow
from crm.pipeline import services as deals
from crm.tasks import services as tasks
from crm.tasks.followups import create_follow_ups
from tests import factories
from tests.test_followups import unanswered
from tests.test_imports_support import import_storage  # noqa: F401 (fixture)
from tests.test_pipeline import get_stage


@pytest.fixture
def contact(db, rep):
    return factories.ContactFactory(name="Maya Chen", owner_id=rep.id)


def everything(contact, limit=200):
    entries, more = timeline_page(contact, limit=limit)
    assert more is None
    return entries


def test_each_kind_appears_newest_first_with_who_and_a_link(app, db, rep, manager, contact):
    with app.test_request_context():
        dms.log_message(rep, contact, platform="instagram", direction="in", body="Love your work",
                        sent_at=utcnow() - timedelta(days=3))
        dms.log_message(rep, contact, platform="instagram", direction="out",
                        body="Thanks! Shall we talk?", sent_at=utcnow() - timedelta(days=2))
        change_consent(manager, contact, status="opted_in", source="Said yes in a DM")
        deal = deals.create_deal(rep, contact, {"title": "Spring reel"},
                                 stage_id=get_stage(db, "Influencer collaborations", "Prospect").id)
        deals.move_deal(rep, deal, get_stage(db, "Influencer collaborations", "Pitched").id)
        task = tasks.create_task(rep, {"title": "Send the brief", "due_at": utcnow(),
                                       "contact_id": contact.id})
        tasks.snooze_task(rep, task, "1d")
        tasks.complete_task(rep, task)
        gone = tasks.create_task(rep, {"title": "Old idea", "due_at": utcnow(),
                                       "contact_id": contact.id})
        tasks.delete_task(rep, gone)
        contacts.add_note(rep, contact, "Prefers <b>reels</b> to stories")
        audit.record(rep, "import", None, entity_type="contact", entity_id=contact.id,
                     summary="12 Instagram messages imported from maya.zip")
        contacts.update_contact(manager, contact, {"company": "Glow"})
        db.session.commit()
        entries = everything(contact)
    assert [e.at for e in entries] == sorted((e.at for e in entries), reverse=True)
    said = {(e.kind, e.text): e for e in entries}
    dm_in = said[("DM", "Received on Instagram: “Love your work”")]
    assert dm_in.who == "Maya Chen" and f"conversation=" in dm_in.url and "#msg-" in dm_in.url
    assert said[("DM", "Sent on Instagram: “Thanks! Shall we talk?”")].who == rep.name
    consent = next(e for e in entries if e.kind == "Consent")
    assert consent.who == manager.name and consent.url.endswith("#consent")
    deal_entries = [e for e in entries if e.kind == "Deal"]
    assert len(deal_entries) == 2 and all(e.url == f"/deals/{deal.id}" for e in deal_entries)
    task_texts = [e.text for e in entries if e.kind == "Task"]
    for words in ("“Send the brief” created", "“Send the brief” snoozed", "“Send the brief” done",
                  "“Old idea” deleted"):
        assert any(words in t for t in task_texts), words
    assert all(e.url == f"/tasks/{task.id}" for e in entries if "Send the brief" in e.text)
    assert all(e.url is None for e in entries if "Old idea" in e.text)   # deleted: no link
    note = next(e for e in entries if e.kind == "Note")
    assert note.text == "Prefers <b>reels</b> to stories" and note.who == rep.name
    assert next(e for e in entries if e.kind == "Import").url == "/imports"
    assert any(e.kind == "Contact" and "edited" in e.text for e in entries)
    # A DM logged by hand is one entry (its message), not two.
    assert len([e for e in entries if e.kind == "DM"]) == 2


def test_automatic_follow_ups_appear(app, db, rep, contact):
    now = utcnow()
    unanswered(contact, now - timedelta(days=4))
    assert create_follow_ups(now=now) == 1
    db.session.commit()
    with app.test_request_context():
        entries = everything(contact)
    follow_up = next(e for e in entries if e.kind == "Task")
    assert follow_up.text.startswith("Follow-up task “Follow up with Maya Chen")
    assert follow_up.who == "Rapport" and follow_up.url.startswith("/tasks/")


def test_pages_share_timestamps_without_gaps_or_repeats(app, db, rep, contact):
    """Entries of every source at the very same instant, read three at a time."""
    at = datetime(2030, 1, 1, 12, 0)
    conv = factories.ConversationFactory(contact=contact, platform="instagram")
    for i in range(5):
        factories.MessageFactory(conversation=conv, direction="in", sent_at=at, body=f"dm {i}")
        db.session.add(AuditEvent(at=at, action="update", entity_type="contact",
                                  entity_id=contact.id, contact_id=contact.id, summary=f"edit {i}"))
        factories.TaskFactory(title=f"auto {i}", contact_id=contact.id, auto=True, created_at=at)
    factories.MessageFactory(conversation=conv, direction="in", sent_at=at - timedelta(1), body="old")
    other = factories.ContactFactory(owner_id=rep.id)           # not theirs: never shown
    db.session.add(AuditEvent(at=at, action="update", entity_type="contact", entity_id=other.id,
                              contact_id=other.id, summary="someone else"))
    db.session.commit()
    with app.test_request_context():
        whole = [e.key for e in everything(contact)]
        paged, before, pages = [], None, 0
        while True:
            entries, before = timeline_page(contact, before=before, limit=3)
            paged += [e.key for e in entries]
            pages += 1
            if before is None:
                break
    assert len(whole) == 16 and len(set(whole)) == 16
    assert paged == whole and pages == 6
    # Same instant: follow-ups, then DMs, then audit events, each newest id first.
    sources = [int(k.split("~")[1]) for k in whole[:15]]
    assert sources == [2] * 5 + [1] * 5 + [0] * 5
    assert whole[-1].startswith("2029-12-31")


def test_the_contact_page_shows_the_first_page_and_older_pages_follow(auth, db, rep, contact, hx,
                                                                      count_queries):
    conv = factories.ConversationFactory(contact=contact, platform="instagram")
    start = datetime(2030, 1, 1, 12, 0)
    for i in range(20):
        factories.MessageFactory(conversation=conv, direction="in", body=f"message {i:02d}",
                                 sent_at=start + timedelta(minutes=i))
    client = auth.login(rep)
    with count_queries() as q:
        page = client.get(f"/contacts/{contact.id}").data.decode()
    # The page does not wait for the timeline: it is read when it scrolls into view, from a
    # link that opens it as a page of its own without JavaScript.
    assert not [s for s in q.statements if "UNION ALL" in s and "audit_events" in s]
    section = page[page.index('id="timeline"'):]
    loader = re.search(r'<li class="tl-more tl-load" hx-get="(/contacts/\d+/timeline)" '
                       r'hx-trigger="revealed"', section).group(1)
    assert f'<a class="btn btn-sm" href="{loader}">Show the timeline</a>' in section
    with count_queries() as q:
        first = client.get(loader, headers=hx).data.decode()
    timeline_reads = [s for s in q.statements if "UNION ALL" in s and "audit_events" in s]
    assert len(timeline_reads) == 1 and "LIMIT" in timeline_reads[0]
    assert "<html" not in first
    shown = re.findall(r"message (\d\d)", first)
    assert shown == [f"{i:02d}" for i in range(19, 4, -1)]          # the newest 15
    older = re.search(r'href="(/contacts/\d+/timeline\?before=[^"]+)"', first).group(1)
    older = older.replace("&amp;", "&")
    more = client.get(older, headers=hx).data.decode()
    assert "<html" not in more and re.findall(r"message (\d\d)", more) == \
        ["04", "03", "02", "01", "00"]
    assert "Older" not in more
    plain = client.get(older).data.decode()                       # without JavaScript
    assert "<html" in plain and "message 04" in plain and "Back to the newest" in plain


def test_adding_a_note_answers_with_the_timeline(auth, db, rep, contact, hx):
    resp = auth.login(rep).post(f"/contacts/{contact.id}/notes", headers=hx,
                                data={"body": "Met at the fair"})
    body = resp.data.decode()
    assert "<html" not in body and 'id="timeline"' in body and "Met at the fair" in body


def test_someone_elses_contact_timeline_is_404(auth, db, rep, other_rep, manager, hx):
    theirs = factories.ContactFactory(owner_id=other_rep.id)
    client = auth.login(rep)
    assert client.get(f"/contacts/{theirs.id}/timeline").status_code == 404
    assert client.get(f"/contacts/{theirs.id}/timeline", headers=hx).status_code == 404
    assert auth.login(manager).get(f"/contacts/{theirs.id}/timeline").status_code == 200


def test_a_rep_with_a_deal_on_someone_elses_contact_sees_no_timeline(auth, db, rep, other_rep,
                                                                    manager):
    """Owning a deal on another rep's contact opens the deal, not the person's history."""
    factories.default_stage()   # the ready-made pipelines, as the migrations leave a workspace
    theirs = factories.ContactFactory(owner_id=other_rep.id)
    deal = deals.create_deal(manager, theirs, {"title": "Joint", "owner_id": rep.id})
    db.session.commit()
    client = auth.login(rep)
    assert client.get(f"/deals/{deal.id}").status_code == 200
    assert client.get(f"/contacts/{theirs.id}/timeline").status_code == 404


def test_a_malformed_cursor_starts_at_the_newest(auth, db, rep, contact, hx):
    contacts.add_note(rep, contact, "Hello")
    db.session.commit()
    body = auth.login(rep).get(f"/contacts/{contact.id}/timeline?before=nonsense",
                               headers=hx).data.decode()
    assert "Hello" in body


def test_contacts_created_and_updated_by_a_csv_import_say_so(app, auth, db, rep,
                                                             import_storage):  # noqa: F811
    """The CSV import writes its audit events in bulk: they are on the timeline all the same."""
    from tests.test_imports_csv import by_name, import_csv

    maya = factories.ContactFactory(name="Maya Lindqvist", email="maya@example.com",
                                    owner_id=rep.id)
    db.session.commit()
    import_csv(auth.login(rep), "Name,Email,Company,Consent\n"
                                "Maya Lindqvist,maya@example.com,Glow,\n"
                                "Lena Fischer,lena@example.com,,opted in\n", name="fair.csv")
    with app.test_request_context():
        updated = everything(db.session.get(type(maya), maya.id))
        created = everything(by_name("Lena Fischer"))
    assert [(e.kind, e.who) for e in updated] == [("Import", rep.name)]
    assert "Updated by" in updated[0].text and "company" in updated[0].text
    assert {e.kind for e in created} == {"Import", "Consent"}
    assert any(e.text.startswith("Created by") for e in created)
