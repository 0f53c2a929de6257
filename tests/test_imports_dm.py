"""DM-export imports end to end: every format and layout, re-import, overlap, the details."""
from datetime import datetime

import pytest
from sqlalchemy import select

from crm.contacts.models import Contact, SocialHandle
from crm.conversations.models import Conversation, Message, ResponseTime
from crm.extensions import db
from crm.imports.models import ImportRun
from tests import factories
from tests.test_imports_support import (import_storage,  # noqa: F401 (fixture)
                                        DATA, FIXTURES, ME, counts, ig_export, ig_message,
                                        import_dm, parsed, stored, tiktok_export)

# (folder under tests/imports/data, platform, layout). The parsers' own files cover the
# layouts and variants of DM_EXPORTS.md; samples/ are the shared samples.
VARIANTS = [
    ("samples/instagram", "instagram", "instagram-json-2024"),
    ("instagram_legacy", "instagram", "instagram-json-legacy"),
    ("samples/facebook", "facebook", "facebook-json-2024"),
    ("facebook_current", "facebook", "facebook-json-2024"),
    ("facebook_legacy", "facebook", "facebook-json-legacy"),
    ("facebook_e2ee", "facebook", "facebook-e2ee"),
    ("samples/x_twitter", "x", "x-archive"),
    ("x_archive", "x", "x-archive"),
    ("samples/linkedin", "linkedin", "linkedin-csv"),
    ("linkedin_gen1", "linkedin", "linkedin-csv"),
    ("linkedin_gen2", "linkedin", "linkedin-csv"),
    ("linkedin_gen3_conversation_draft", "linkedin", "linkedin-csv"),
    ("linkedin_with_profile", "linkedin", "linkedin-csv"),
    ("samples/whatsapp/android_without_media", "whatsapp", "whatsapp-android"),
    ("whatsapp_android_media", "whatsapp", "whatsapp-android"),
    ("whatsapp_ios", "whatsapp", "whatsapp-ios"),
    ("whatsapp_us_narrow", "whatsapp", "whatsapp-android"),
    ("whatsapp_us_plain", "whatsapp", "whatsapp-android"),
    ("samples/tiktok", "tiktok", "tiktok-json"),
    ("tiktok_legacy", "tiktok", "tiktok-json-legacy"),
]
AMBIGUOUS = {"whatsapp_us_plain"}


@pytest.mark.parametrize("folder,platform,layout", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_every_variant_imports_as_the_parsers_read_it_and_reimport_adds_nothing(
        auth, rep, folder, platform, layout):
    client = auth.login(rep)
    path = DATA / folder
    day_first = False if folder in AMBIGUOUS else None
    rid = import_dm(client, path, day_first=day_first)
    run = db.session.get(ImportRun, rid)
    assert (run.status, run.platform, run.layout) == ("done", platform, layout), run.problems
    expected = parsed(path, day_first=day_first)
    assert stored() == expected  # same times (UTC), directions, text and media
    assert run.counts["messages_added"] == len(expected) > 0
    assert {c.platform for c in db.session.scalars(select(Conversation))} == {platform}
    assert all(m.import_id == rid for m in db.session.scalars(select(Message)))
    # Mine are outbound and written by the run's owner; theirs are inbound with no author.
    for m in db.session.scalars(select(Message)):
        assert (m.author_id == rep.id) == (m.direction == "out")
    before = counts()

    again = db.session.get(ImportRun, import_dm(client, path, day_first=day_first))
    assert again.status == "done"
    assert again.counts["messages_added"] == 0
    assert again.counts["duplicates_skipped"] == len(expected)
    assert again.counts["contacts_created"] == 0
    assert counts() == before


def test_instagram_sample_details(auth, rep):
    client = auth.login(rep)
    rid = import_dm(client, FIXTURES / "instagram")
    contact = db.session.scalars(select(Contact)).one()
    assert contact.name == "Maya Lindqvist" and contact.owner_id == rep.id
    conv = db.session.scalars(select(Conversation)).one()
    assert conv.contact_id == contact.id and conv.external_thread_id.startswith("mayalindqvist_")
    msgs = db.session.scalars(select(Message).order_by(Message.sent_at)).all()
    # Meta's per-byte escaping is undone: real emoji and accents.
    assert msgs[0].body == "Hi Alex! Loved your portfolio 📸"
    assert any("Café" in m.body for m in msgs)
    assert msgs[0].sent_at == datetime(2024, 1, 5, 18, 2, 11, 417000)
    photo = [m for m in msgs if m.media == "photo"]
    assert len(photo) == 1 and photo[0].body == ""          # media-only, marked as such
    assert all("Reacted" not in m.body and "sent an attachment" not in m.body for m in msgs)
    # Reply state and first-response times are up to date.
    assert conv.message_count == len(msgs) and conv.state == "awaiting_reply"
    assert conv.last_message_at == msgs[-1].sent_at
    times = db.session.scalars(select(ResponseTime).order_by(ResponseTime.burst_started_at)).all()
    assert [t.response_seconds for t in times] == [513, 959, 1457]
    assert msgs[1].direction == "out" and msgs[1].replied_at == msgs[2].sent_at
    assert db.session.get(ImportRun, rid).counts["contacts_created"] == 1
    assert db.session.get(ImportRun, rid).counts["needs_reply"] == 0   # ends with our message


def test_overlapping_newer_export_adds_only_the_new_messages(auth, rep, tmp_path):
    client = auth.login(rep)
    people = ["Renée Dubois", ME]
    base = 1_700_000_000_000
    first = [ig_message(people[i % 2], base + i * 60_000, f"message {i} ✨") for i in range(6)]
    newer = first[3:] + [ig_message(people[i % 2], base + i * 60_000, f"message {i} ✨")
                         for i in range(6, 10)]
    import_dm(client, ig_export(tmp_path / "v1", {"reneedubois_1": ("Renée Dubois", people, first)}))
    rid = import_dm(client, ig_export(tmp_path / "v2", {"reneedubois_1": ("Renée Dubois", people, newer)}))
    run = db.session.get(ImportRun, rid)
    assert run.counts["messages_added"] == 4 and run.counts["duplicates_skipped"] == 3
    assert run.counts["contacts_created"] == 0 and run.counts["contacts_matched"] == 1
    bodies = [m.body for m in db.session.scalars(select(Message).order_by(Message.sent_at))]
    assert bodies == [f"message {i} ✨" for i in range(10)]
    contact = db.session.scalars(select(Contact)).one()
    assert contact.name == "Renée Dubois"                     # mojibake fixed in names too
    conv = db.session.scalars(select(Conversation)).one()
    assert conv.message_count == 10 and conv.state == "awaiting_reply"


def test_x_reimport_uses_platform_message_ids(auth, rep):
    client = auth.login(rep)
    import_dm(client, DATA / "x_archive")
    ids = db.session.scalars(select(Message.external_id)).all()
    assert all(ids) and len(set(ids)) == len(ids)
    # Someone known only by account id becomes "X user <id>", linked to their profile.
    handle = db.session.scalars(select(SocialHandle).where(
        SocialHandle.account_id == "29847561")).one()
    assert handle.contact.name == "X user 29847561"
    assert handle.profile_url == "https://x.com/i/user/29847561"


def test_whatsapp_day_month_ambiguity_is_asked_and_multiline_messages_kept(auth, rep):
    client = auth.login(rep)
    from tests.test_imports_support import run_id, upload_dm
    rid = run_id(upload_dm(client, DATA / "whatsapp_us_plain"))
    client.post(f"/imports/{rid}/me", data={"me": ME})
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "How are dates written" in page and "3 September 2024" in page and "9 March 2024" in page
    refused = client.post(f"/imports/{rid}/confirm", follow_redirects=True)
    assert "Choose how the dates in the WhatsApp chat are written." in refused.get_data(as_text=True)
    assert counts()["messages"] == 0
    client.post(f"/imports/{rid}/dates", data={"order": "month"})
    assert "09 Mar 2024 – 10 Mar 2024" in client.get(f"/imports/{rid}").get_data(as_text=True)
    client.post(f"/imports/{rid}/confirm")
    first = db.session.scalars(select(Message).order_by(Message.sent_at)).first()
    assert first.sent_at == datetime(2024, 3, 9, 19, 45)

    import_dm(client, DATA / "whatsapp_ios")
    bodies = db.session.scalars(select(Message.body)).all()
    assert "Sending now\nsecond line of the same message" in bodies


def test_whatsapp_times_are_read_in_the_phones_time_zone(auth, rep):
    client = auth.login(rep)
    import_dm(client, FIXTURES / "whatsapp" / "android_without_media", tz="Europe/Berlin")
    first = db.session.scalars(select(Message).order_by(Message.sent_at)).first()
    assert first.sent_at == datetime(2024, 3, 12, 13, 5)  # 14:05 in Berlin (CET)


def test_linkedin_drafts_are_not_messages(auth, rep):
    client = auth.login(rep)
    import_dm(client, DATA / "linkedin_gen3_conversation_draft")
    bodies = db.session.scalars(select(Message.body)).all()
    assert "Unsent draft to Lena" not in bodies and "Happy new year!" in bodies
    # The profile URL is the identity: the new contact keeps it as a handle.
    handle = db.session.scalars(select(SocialHandle)).one()
    assert (handle.platform, handle.handle) == ("linkedin", "lenafischer")


def test_matches_by_handle_profile_url_and_name(auth, rep):
    client = auth.login(rep)
    maya = factories.ContactFactory(name="Someone Else", owner_id=rep.id)
    factories.HandleFactory(contact=maya, platform="tiktok", handle="maya.lindqvist")
    priya = factories.ContactFactory(name="P. Shah", owner_id=rep.id)
    factories.HandleFactory(contact=priya, platform="linkedin", handle="priya-shah-talent")
    jonas = factories.ContactFactory(name="Jonas Berg", owner_id=rep.id)
    db.session.commit()
    import_dm(client, FIXTURES / "tiktok")
    conv = db.session.scalars(select(Conversation).where(
        Conversation.external_thread_id == "maya.lindqvist")).one()
    assert conv.contact_id == maya.id                          # by handle
    rid = import_dm(client, DATA / "linkedin_gen1")
    assert db.session.scalars(select(Conversation).where(
        Conversation.contact_id == priya.id)).one().platform == "linkedin"   # by profile URL
    assert db.session.scalars(select(Conversation).where(
        Conversation.contact_id == jonas.id)).one()                         # by exact name
    # Matched by name, the contact learns the profile URL for next time.
    assert [(h.platform, h.handle) for h in jonas.handles] == [("linkedin", "jonas-berg-growth")]
    assert db.session.get(ImportRun, rid).counts["contacts_matched"] == 2
    assert db.session.get(ImportRun, rid).counts["contacts_created"] == 0


def test_same_new_person_in_a_chat_and_a_group_becomes_one_contact(auth, rep):
    client = auth.login(rep)
    import_dm(client, DATA / "instagram_legacy")
    names = sorted(db.session.scalars(select(Contact.name)).all())
    assert names == ["Brand Collab Co", "Jordan Lee"]
    group = db.session.scalars(select(Conversation).where(Conversation.is_group.is_(True))).one()
    assert group.title == "Shoot crew"
    senders = set(db.session.scalars(select(Message.sender_name).where(
        Message.conversation_id == group.id)))
    assert {"Renée Dubois", "Jordan Lee", ME} <= senders


def test_group_threads_can_be_skipped_and_threads_attached_elsewhere(auth, rep):
    client = auth.login(rep)
    agency = factories.ContactFactory(name="Brand Agency", owner_id=rep.id)
    db.session.commit()
    # Threads are listed newest first: 0 Brand Collab Co, 1 Shoot crew, 2 Jordan Lee.
    rid = import_dm(client, DATA / "instagram_legacy", choices={
        "t-0-action": "import", "t-0-contact_id": str(agency.id),
        "t-1-action": "skip", "t-2-action": "import"})
    run = db.session.get(ImportRun, rid)
    assert run.counts["threads"] == 2 and run.counts["threads_skipped"] == 1
    assert not db.session.scalars(select(Conversation).where(Conversation.is_group.is_(True))).all()
    assert db.session.scalars(select(Conversation).where(
        Conversation.contact_id == agency.id)).one().external_thread_id == "brandcollabco_178400003"


def test_opted_out_contact_gets_history_but_no_consent_change_or_outreach(auth, rep):
    from crm.contacts.consent import change_consent
    client = auth.login(rep)
    maya = factories.ContactFactory(name="Maya L", owner_id=rep.id)
    factories.HandleFactory(contact=maya, platform="tiktok", handle="maya.lindqvist")
    change_consent(rep, maya, status="opted_out", do_not_contact=True, source="Asked by DM")
    db.session.commit()
    before = counts()
    rid = import_dm(client, FIXTURES / "tiktok")
    assert db.session.get(ImportRun, rid).status == "done"
    db.session.refresh(maya)
    assert (maya.consent_status, maya.do_not_contact) == ("opted_out", True)
    after = counts()
    assert after["consent_events"] == before["consent_events"] == 1
    assert after["tasks"] == 0
    outbound = db.session.scalars(select(Message).join(Conversation).where(
        Conversation.contact_id == maya.id, Message.direction == "out")).all()
    assert outbound  # the record of what was sent is kept, not refused


def test_bulk_path_rebuilds_the_indexes_and_matches_the_plain_path(app, auth, rep, monkeypatch,
                                                                   tmp_path):
    from sqlalchemy import inspect
    monkeypatch.setitem(app.config, "IMPORT_BULK_MIN_ROWS", 1)
    client = auth.login(rep)
    path = DATA / "instagram_legacy"
    import_dm(client, path)
    assert stored() == parsed(path)
    names = {ix["name"] for ix in inspect(db.engine).get_indexes("messages")}
    assert {ix.name for ix in Message.__table__.indexes} <= names
    again = db.session.get(ImportRun, import_dm(client, path))
    assert again.counts["messages_added"] == 0
    # Every imported message is in the word index once, and new ones enter it again.
    from sqlalchemy import func, text

    from crm.conversations.search import find_messages
    from crm.conversations.services import log_message
    body = db.session.scalars(select(Message.body).where(Message.body != "")
                              .order_by(Message.id)).first()
    assert find_messages(rep, body, limit=50)
    if db.engine.dialect.name == "sqlite":
        indexed = db.session.execute(text("SELECT count(*) FROM messages_fts_docsize")).scalar()
        assert indexed == db.session.scalar(select(func.count()).select_from(Message))
    contact = db.session.scalars(select(Contact).join(
        Conversation, Conversation.contact_id == Contact.id)).first()
    log_message(rep, contact, platform="instagram", direction="in", body="Zebracorn parade")
    db.session.commit()
    assert [m.excerpt for m in find_messages(rep, "zebracorn")] == ["Zebracorn parade"]


def test_parallel_readers_give_the_same_result(app, db, rep, tmp_path, monkeypatch):
    from crm.imports.dm_exports.cli_run import run_cli_import
    from crm.contacts import dm_counts
    monkeypatch.setitem(app.config, "IMPORT_BULK_MIN_ROWS", 1)
    people = [["Lena Fischer", ME], ["Marco Bellini", ME], ["Jonas Berg", ME]]
    threads = {f"t{i}_{i}": (p[0], p, [ig_message(p[j % 2], 1_700_000_000_000 + j * 1000 + i,
                                                  f"hello {i}.{j}") for j in range(30)])
               for i, p in enumerate(people)}
    path = ig_export(tmp_path / "export", threads)
    db.session.commit()
    summary = run_cli_import(str(path), owner_email=rep.email, workers=2)
    assert summary["messages_added"] == 90 and summary["threads"] == 3
    assert stored() == parsed(path)
    # The import counted what it wrote for the dashboard: the counts are those a recount
    # from the tables gives.
    assert dm_counts.stored_hours() == dm_counts.recounted_hours() != {}
    assert dm_counts.stored_totals() == dm_counts.recounted_totals()
    assert dm_counts.stored_responses() == dm_counts.recounted_responses() != {}
    again = run_cli_import(str(path), owner_email=rep.email, workers=2)
    assert again["messages_added"] == 0 and again["duplicates_skipped"] == 90


def test_tiktok_handles_become_handles_of_new_contacts(auth, rep, tmp_path):
    client = auth.login(rep)
    path = tiktok_export(tmp_path / "user_data_tiktok.json", {
        "jo.runs": [("jo.runs", "2024-05-01 10:00:00", "Hi!"),
                    ("alex.rivera.photo", "2024-05-01 10:05:00", "Hello Jo")]})
    import_dm(client, path)
    contact = db.session.scalars(select(Contact)).one()
    assert [(h.platform, h.handle) for h in contact.handles] == [("tiktok", "jo.runs")]
    assert [m.direction for m in db.session.scalars(select(Message).order_by(Message.sent_at))] \
        == ["in", "out"]


def test_the_same_export_uploaded_again_does_not_ask_who_you_are(auth, rep, other_rep):
    from tests.test_imports_support import run_id, upload_dm
    client = auth.login(rep)
    first = run_id(upload_dm(client, DATA / "whatsapp_ios"))
    page = client.get(f"/imports/{first}").get_data(as_text=True)
    assert "does not say which account is yours" in page
    client.post(f"/imports/{first}/me", data={"me": ME})
    again = run_id(upload_dm(client, DATA / "whatsapp_ios"))
    page = client.get(f"/imports/{again}").get_data(as_text=True)
    assert "does not say which account is yours" not in page
    assert "as in your last import from this platform" in page
    assert db.session.get(ImportRun, again).options["me"] == ME
    # Someone else's choice is theirs alone.
    other = run_id(upload_dm(auth.login(other_rep), DATA / "whatsapp_ios"))
    assert "me" not in db.session.get(ImportRun, other).options
