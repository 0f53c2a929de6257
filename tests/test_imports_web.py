"""Import pages: bad input, permissions, failures half way, progress, fragments."""
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from crm.conversations.models import Conversation, Message
from crm.extensions import db
from crm.imports import storage
from crm.imports.models import ImportRun
from crm.imports.dm_exports.parsers import ExportError
from tests import factories
from tests.test_imports_support import (import_storage,  # noqa: F401 (fixture)
                                        DATA, FIXTURES, ME, audit_actions, counts, fresh, import_dm,
                                        nothing_written, run_id, upload_dm, zip_bytes)


def _zip(members: dict, compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    buf.seek(0)
    return buf


def _failed_with(client, data, name) -> ImportRun:
    rid = run_id(upload_dm(client, data, name=name))
    run = db.session.get(ImportRun, rid)
    assert run.status == "failed", run.problems
    assert nothing_written()
    assert not storage.run_folder(rid).exists()         # the upload is deleted
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "Nothing was imported." in page
    return run


# -- bad input: the message names the file and the problem; nothing is written ------------
def test_malformed_json_names_the_file(auth, rep):
    client = auth.login(rep)
    data = _zip({"your_instagram_activity/messages/inbox/maya_1/message_1.json": '{"messages": [',
                 "your_instagram_activity/messages/inbox/lena_2/message_1.json":
                     json.dumps({"participants": [{"name": "Lena"}], "messages": [
                         {"sender_name": "Lena", "timestamp_ms": 1, "content": "hi"}]})})
    run = _failed_with(auth.login(rep), data, "instagram.zip")
    assert "maya_1/message_1.json" in run.problems[0] and "malformed JSON" in run.problems[0]


def test_unknown_layout_and_not_an_export(auth, rep):
    client = auth.login(rep)
    run = _failed_with(client, io.BytesIO(b'{"something": "else"}'), "data.json")
    assert run.problems[0].startswith("data.json:") and "unknown JSON layout" in run.problems[0]
    run = _failed_with(client, io.BytesIO(b"\x89PNG\r\n\x1a\n...."), "holiday.png")
    assert run.problems[0].startswith("holiday.png:") and "not a DM export" in run.problems[0]
    run = _failed_with(client, _zip({"README.txt": "hello"}), "notes.zip")
    assert run.problems[0].startswith("notes.zip:") and "no message files" in run.problems[0]
    run = _failed_with(client, _zip({"messages/inbox/maya_1/message_1.html": "<html></html>"}),
                       "facebook-html.zip")
    assert "HTML format" in run.problems[0]
    run = _failed_with(client, io.BytesIO(b"PK\x03\x04 this is not really a zip"), "broken.zip")
    assert "broken.zip" in run.problems[0] and "not a valid zip" in run.problems[0]


def test_zip_path_traversal_is_refused(auth, rep, tmp_path):
    client = auth.login(rep)
    run = _failed_with(client, _zip({"../../evil.json": "{}", "messages/x.txt": "hi"}), "evil.zip")
    assert "path traversal" in run.problems[0] and "evil.zip" in run.problems[0]
    assert not list(Path(storage.root()).rglob("evil.json"))


def test_zip_bomb_is_refused(app, auth, rep, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_RATIO", 50)
    client = auth.login(rep)
    bomb = _zip({"your_instagram_activity/messages/inbox/a_1/message_1.json": " " * 5_000_000})
    run = _failed_with(client, bomb, "bomb.zip")
    assert "zip bomb" in run.problems[0]


def test_too_much_uncompressed_data_is_refused(app, auth, rep, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_UNCOMPRESSED_MB", 0.001)
    client = auth.login(rep)
    run = _failed_with(client, zip_bytes(DATA / "instagram_legacy"), "ig.zip")
    assert "uncompressed data exceeds" in run.problems[0]


def test_upload_over_the_size_limit(app, auth, rep, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_MAX_UPLOAD_MB", 0.001)
    client = auth.login(rep)
    resp = upload_dm(client, DATA / "instagram_legacy")
    assert resp.status_code == 200
    assert "larger than the" in resp.get_data(as_text=True)
    assert db.session.scalars(select(ImportRun)).all() == []
    assert not any(storage.root().glob("*/upload")) if storage.root().exists() else True
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    resp = upload_dm(client, DATA / "instagram_legacy")
    assert resp.status_code == 413 and "larger than the" in resp.get_data(as_text=True)


def test_failure_half_way_writes_nothing(app, auth, rep, admin, monkeypatch, caplog):
    import crm.conversations.ingest_bulk as ingest_bulk
    from crm.jobs.models import Job

    def broken(ids):
        raise RuntimeError("disk full at /var/lib/rapport/db.sqlite3")
    monkeypatch.setattr(ingest_bulk, "rebuild_reply_state", broken)
    client = auth.login(rep)
    rid = import_dm(client, DATA / "instagram_legacy")
    run = db.session.get(ImportRun, rid)
    # The user reads what happened, not the internals; the log has the whole error.
    assert run.status == "failed" and "disk full" not in run.problems[0]
    assert "error on our side" in run.problems[0] and "Nothing was imported" in run.problems[0]
    assert "disk full at /var/lib/rapport" in caplog.text
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "error on our side" in page and "/var/lib" not in page
    assert nothing_written()
    assert "import" not in audit_actions()
    # The upload is kept for a while, so an admin can run the job again once it is fixed.
    assert storage.run_folder(rid).exists()
    monkeypatch.undo()
    job = db.session.scalars(select(Job).where(Job.task == "imports.write_dm")).one()
    assert job.status == "failed" and job.error == run.problems[0]
    auth.login(admin).post(f"/admin/jobs/{job.id}/retry")
    db.session.expire_all()
    run = db.session.get(ImportRun, rid)
    assert run.status == "done" and run.counts["messages_added"] == 12
    assert counts()["messages"] == 12 and not storage.run_folder(rid).exists()


def test_failure_half_way_on_the_bulk_path_keeps_the_indexes(app, auth, rep, monkeypatch):
    import crm.imports.dm_exports.stream as dm_stream
    monkeypatch.setitem(app.config, "IMPORT_BULK_MIN_ROWS", 1)
    real, calls = dm_stream.pack_message, []

    def pack_then_fail(m, to_db):
        calls.append(1)
        if len(calls) > 9:
            raise ExportError("jordanlee_178400001/message_2.json", "messages[3] is broken")
        return real(m, to_db)
    monkeypatch.setattr(dm_stream, "pack_message", pack_then_fail)
    client = auth.login(rep)
    run = db.session.get(ImportRun, import_dm(client, DATA / "instagram_legacy"))
    assert run.status == "failed"
    assert run.problems[0].startswith("jordanlee_178400001/message_2.json: messages[3] is broken")
    assert nothing_written()
    names = {ix["name"] for ix in inspect(db.engine).get_indexes("messages")}
    assert {ix.name for ix in Message.__table__.indexes} <= names


# -- the review before anything is written -------------------------------------------------
def test_preview_asks_who_i_am_and_writes_nothing(auth, rep):
    client = auth.login(rep)
    rid = run_id(upload_dm(client, FIXTURES / "instagram"))
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "Who are you in this export?" in page and "Maya Lindqvist" in page
    assert "Nothing imported yet" in page
    resp = client.post(f"/imports/{rid}/confirm", follow_redirects=True)
    assert "Choose which person in the export is you." in resp.get_data(as_text=True)
    assert client.post(f"/imports/{rid}/me", data={"me": "Nobody"}).status_code == 302
    assert db.session.get(ImportRun, rid).options.get("me") is None
    client.post(f"/imports/{rid}/me", data={"me": ME})
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "You are <strong>Alex Rivera</strong>" in page
    assert "New contact" in page and "8" in page and "05 Jan 2024" in page
    assert nothing_written()


def test_preview_marks_name_matches_and_new_contacts(auth, rep):
    client = auth.login(rep)
    factories.ContactFactory(name="Jordan Lee", owner_id=rep.id)
    rid = run_id(upload_dm(client, DATA / "instagram_legacy"))
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "named in the export" in page
    assert "matched by name — check" in page and "New contact" in page
    check = client.get(f"/imports/{rid}?show=check").get_data(as_text=True)
    assert "<strong>Brand Collab Co</strong>" not in check
    assert "<strong>Jordan Lee</strong>" in check
    assert "message requests" in page


def test_attach_by_typed_name_without_javascript(auth, rep):
    client = auth.login(rep)
    agency = factories.ContactFactory(name="Brand Agency", owner_id=rep.id)
    rid = run_id(upload_dm(client, DATA / "instagram_legacy"))
    resp = client.post(f"/imports/{rid}/threads", data={
        "t-0-action": "import", "t-0-contact_name": "Nobody Here"}, follow_redirects=True)
    assert "No single contact is called “Nobody Here”" in resp.get_data(as_text=True)
    client.post(f"/imports/{rid}/threads", data={"t-0-action": "import",
                                                 "t-0-contact_name": "Brand Agency"})
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "chosen by you" in page
    client.post(f"/imports/{rid}/confirm")
    conv = db.session.scalars(select(Conversation).where(
        Conversation.external_thread_id == "brandcollabco_178400003")).one()
    assert conv.contact_id == agency.id


def test_cancel_deletes_the_upload(auth, rep):
    client = auth.login(rep)
    rid = run_id(upload_dm(client, DATA / "instagram_legacy"))
    assert storage.run_folder(rid).exists()
    assert client.post(f"/imports/{rid}/cancel").status_code == 302
    run = db.session.get(ImportRun, rid)
    assert run.status == "cancelled" and not storage.run_folder(rid).exists()
    assert client.post(f"/imports/{rid}/confirm").status_code == 302
    assert nothing_written()


def test_several_loose_files_upload_together(auth, rep):
    client = auth.login(rep)
    base = DATA / "instagram_legacy" / "messages" / "inbox"
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in sorted(base.rglob("message_*.json"))]
    resp = client.post("/imports/dm", data={"tz": "UTC", "new_kind": "lead", "file": files},
                       content_type="multipart/form-data")
    rid = run_id(resp)
    run = db.session.get(ImportRun, rid)
    assert run.status == "previewed" and run.filename.startswith("3 files (message_1.json")
    assert len(run.options["threads"]) == 2
    client.post(f"/imports/{rid}/me", data={"me": ME})
    client.post(f"/imports/{rid}/confirm")
    fresh()
    # 12 entries that are messages, less "The video chat ended." (a call).
    assert db.session.get(ImportRun, rid).counts["messages_added"] == 11
    # The same threads uploaded later as a zip are recognised: nothing added twice.
    again = db.session.get(ImportRun, import_dm(client, DATA / "instagram_legacy"))
    assert again.counts["duplicates_skipped"] == 11
    from crm.contacts.models import Contact
    assert {c.kind for c in db.session.scalars(select(Contact))} >= {"lead"}


# -- permissions ---------------------------------------------------------------------------
def test_another_reps_import_is_404_everywhere(auth, rep, other_rep):
    client = auth.login(other_rep)
    rid = run_id(upload_dm(client, FIXTURES / "instagram"))
    auth.logout()
    client = auth.login(rep)
    assert client.get(f"/imports/{rid}").status_code == 404
    assert client.get(f"/imports/{rid}/progress", headers={"HX-Request": "true"}).status_code == 404
    for action in ("me", "dates", "threads", "confirm", "cancel", "mapping", "remap"):
        assert client.post(f"/imports/{rid}/{action}", data={"me": ME}).status_code == 404
    assert f"/imports/{rid}" not in client.get("/imports").get_data(as_text=True)
    assert db.session.get(ImportRun, rid).status == "previewed"


def test_csv_steps_on_a_dm_import_are_404(auth, rep):
    client = auth.login(rep)
    rid = run_id(upload_dm(client, FIXTURES / "instagram"))
    for action in ("mapping", "remap"):
        assert client.post(f"/imports/{rid}/{action}").status_code == 404
    assert db.session.get(ImportRun, rid).status == "previewed"


def test_managers_see_every_import(auth, rep, manager):
    client = auth.login(rep)
    rid = import_dm(client, FIXTURES / "tiktok")
    auth.logout()
    client = auth.login(manager)
    assert client.get(f"/imports/{rid}").status_code == 200
    assert f"/imports/{rid}" in client.get("/imports").get_data(as_text=True)


def test_a_rep_only_matches_contacts_they_may_see(auth, rep, other_rep):
    theirs = factories.ContactFactory(name="Maya Lindqvist", owner_id=other_rep.id)
    taken = factories.ContactFactory(name="Trail Runner", owner_id=other_rep.id)
    factories.HandleFactory(contact=taken, platform="tiktok", handle="trailrunner_jo")
    client = auth.login(rep)
    rid = import_dm(client, FIXTURES / "tiktok")
    run = db.session.get(ImportRun, rid)
    # The handle belongs to a contact the rep cannot see: skipped, said so, name not shown.
    assert run.counts["threads_skipped"] == 1
    assert any("trailrunner_jo" in p and "cannot see" in p for p in run.problems)
    assert not any("Trail Runner" in p for p in run.problems)
    assert db.session.scalars(select(Conversation).where(
        Conversation.contact_id == taken.id)).all() == []
    # Same name as another rep's contact: not matched; the rep gets their own contact.
    import_dm(client, FIXTURES / "instagram")
    conv = db.session.scalars(select(Conversation).where(
        Conversation.platform == "instagram")).one()
    assert conv.contact_id != theirs.id and conv.contact.owner_id == rep.id


def test_attaching_to_a_contact_out_of_scope_is_404(auth, rep, other_rep):
    theirs = factories.ContactFactory(name="Private Person", owner_id=other_rep.id)
    client = auth.login(rep)
    rid = run_id(upload_dm(client, DATA / "instagram_legacy"))
    resp = client.post(f"/imports/{rid}/threads", data={"t-0-action": "import",
                                                        "t-0-contact_id": str(theirs.id)})
    assert resp.status_code == 404


# -- pages, fragments, progress ------------------------------------------------------------
def test_index_lists_runs_with_constant_queries(auth, manager, rep, count_queries):
    client = auth.login(manager)
    for i in range(3):
        db.session.add(ImportRun(kind="csv", status="done", filename=f"f{i}.csv",
                                 created_by_id=rep.id, counts={"contacts_created": i},
                                 problems=["Row 2, column Email: bad"]))
    db.session.commit()
    with count_queries() as few:
        page = client.get("/imports").get_data(as_text=True)
    assert "Row 2, column Email: bad" in page and "Older imports" not in page
    for i in range(30):
        db.session.add(ImportRun(kind="dm", platform="x", status="failed", filename=f"x{i}.zip",
                                 created_by_id=manager.id, problems=["x.zip: broken"]))
    db.session.commit()
    with count_queries() as many:
        page = client.get("/imports").get_data(as_text=True)
    assert many.count == few.count
    assert "Older imports" in page


def test_runs_fragment_and_progress_fragment(auth, rep, hx):
    client = auth.login(rep)
    run = ImportRun(kind="dm", status="running", filename="big.zip", created_by_id=rep.id,
                    progress_total=1000)
    db.session.add(run)
    db.session.commit()
    storage.write_progress(run.id, 250, 1000, "messages")
    frag = client.get(f"/imports/{run.id}/progress", headers=hx)
    body = frag.get_data(as_text=True)
    assert frag.status_code == 200 and "<html" not in body
    assert "250 of 1,000 messages (25%)" in body and 'value="25"' in body
    page = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "<html" in page and "Importing big.zip" in page and 'id="import-progress"' in page
    runs = client.get("/imports", headers={**hx, "HX-Target": "import-runs"})
    assert "<html" not in runs.get_data(as_text=True) and "big.zip" in runs.get_data(as_text=True)
    run.status = "done"
    db.session.commit()
    done = client.get(f"/imports/{run.id}/progress", headers=hx)
    assert done.headers["HX-Redirect"] == f"/imports/{run.id}"
    storage.remove(run)


def test_result_page_links_to_the_conversations(auth, rep):
    client = auth.login(rep)
    rid = import_dm(client, FIXTURES / "instagram")
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    conv = db.session.scalars(select(Conversation)).one()
    assert "8" in page and "messages added" in page
    assert f"/contacts/{conv.contact_id}?conversation={conv.id}" in page
    contact_page = client.get(f"/contacts/{conv.contact_id}").get_data(as_text=True)
    assert "See you Friday" in contact_page
    rid = import_dm(client, DATA / "linkedin_with_profile")  # ends with their message
    assert "1 ends with a message from the other person" in \
        client.get(f"/imports/{rid}").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/imports", "/contacts/export.csv"])
def test_pages_need_a_sign_in(client, path):
    assert client.get(path).status_code == 302


def test_an_interrupted_import_is_reported_and_old_previews_expire(app, auth, rep, tmp_path):
    from datetime import timedelta
    from crm.core.timeutil import utcnow
    from crm.imports import cleanup
    from crm.jobs import sweep
    from crm.jobs.models import Job
    client = auth.login(rep)
    stuck = ImportRun(kind="dm", status="running", filename="big.zip", created_by_id=rep.id)
    old = ImportRun(kind="csv", status="previewed", filename="old.csv", created_by_id=rep.id,
                    created_at=utcnow() - timedelta(days=8))
    db.session.add_all([stuck, old])
    db.session.flush()
    # Its worker died on the job's last attempt: nobody holds its lease any more.
    db.session.add(Job(task="imports.write_dm", label="DM import: big.zip", args=[stuck.id],
                       subject=f"import-run:{stuck.id}", status="running", attempts=2))
    db.session.commit()
    page = client.get(f"/imports/{stuck.id}").get_data(as_text=True)
    assert "big.zip" in page and db.session.get(ImportRun, stuck.id).status == "running"
    assert sweep.sweep()["failed"]
    page = client.get(f"/imports/{stuck.id}").get_data(as_text=True)
    assert "stopped before it finished" in page and "Nothing from it was written" in page
    assert db.session.get(ImportRun, stuck.id).status == "failed"
    assert cleanup.clean_up() == {"previews cancelled": 1}
    db.session.commit()
    assert db.session.get(ImportRun, old.id).status == "cancelled"


def test_preview_counts_each_new_person_once(auth, rep):
    client = auth.login(rep)
    rid = run_id(upload_dm(client, DATA / "instagram_legacy"))
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    # Jordan Lee has a chat and is in the group: one new contact for both.
    assert "<strong>2</strong> new contacts will be created" in page
    assert "<strong>3</strong> conversations with up to <strong>12</strong> messages" in page
