"""An export import goes through the ingestion service: opt-outs flagged, malformed messages
refused whole, duplicates skipped and counted — on the plain and the bulk path alike."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from crm.conversations.models import Conversation, Message
from crm.extensions import db
from crm.imports.dm_exports.cli_run import ImportFailed, run_cli_import
from crm.imports.models import ImportRun
from tests import factories
from tests.test_imports_support import (import_storage,  # noqa: F401 (fixture)
                                        ME, counts, ig_export, ig_message, import_dm)

T = 1_700_000_000_000   # ms
LENA = ["Lena Fischer", ME]


@pytest.fixture(params=["plain", "bulk"])
def path_kind(request, app, monkeypatch):
    monkeypatch.setitem(app.config, "IMPORT_BULK_MIN_ROWS",
                        1 if request.param == "bulk" else 10**9)
    return request.param


def export(tmp_path, messages, name="export"):
    return ig_export(tmp_path / name, {"lena_1": ("Lena Fischer", LENA, messages)})


def flagged():
    conv = db.session.scalars(select(Conversation)).one()
    message = db.session.get(Message, conv.opt_out_message_id or 0)
    return message.body if message else None


def test_an_imported_opt_out_flags_the_conversation(db, rep, tmp_path, path_kind):
    db.session.commit()
    run_cli_import(str(export(tmp_path, [ig_message(ME, T, "Hi Lena!"),
                                         ig_message("Lena Fischer", T + 1000,
                                                    "Please stop messaging me"),
                                         ig_message(ME, T + 2000, "Sorry, noted.")])),
                   owner_email=rep.email, workers=0)
    assert flagged() == "Please stop messaging me"


def test_an_opt_out_in_a_newer_export_of_a_known_thread_is_flagged(db, rep, tmp_path, path_kind):
    db.session.commit()
    first = [ig_message(ME, T, "Hi Lena!"), ig_message("Lena Fischer", T + 1000, "Hello!")]
    run_cli_import(str(export(tmp_path, first, "a")), owner_email=rep.email, workers=0)
    assert flagged() is None
    newer = first + [ig_message("Lena Fischer", T + 5000, "Unsubscribe me, thanks")]
    summary = run_cli_import(str(export(tmp_path, newer, "b")), owner_email=rep.email,
                             workers=0)
    assert (summary["messages_added"], summary["duplicates_skipped"]) == (1, 2)
    assert flagged() == "Unsubscribe me, thanks"


def test_an_opted_out_contact_is_not_flagged_again(auth, rep, tmp_path, import_storage):
    from crm.contacts.consent import change_consent
    lena = factories.ContactFactory(name="Lena Fischer", owner_id=rep.id)
    change_consent(rep, lena, status="opted_out", source="Asked by DM")
    client = auth.login(rep)
    rid = import_dm(client, export(tmp_path, [ig_message("Lena Fischer", T, "stop please")]),
                    choices={"thread-0-contact_id": str(lena.id)})
    assert db.session.get(ImportRun, rid).status == "done"
    assert db.session.scalars(select(Conversation.opt_out_message_id)).all() == [None]


FUTURE_MS = int((datetime.now(timezone.utc) + timedelta(days=30)).timestamp() * 1000)


@pytest.mark.parametrize("bad, number, words", [
    (ig_message("Lena Fischer", T + 1000, "bad \x00 byte"), 2, "NUL"),
    (ig_message("Lena Fischer", T + 1000, "x" * 20001), 2, "20,001 characters"),
    (ig_message("Lena Fischer", FUTURE_MS, "from the future"), 3, "is in the future"),
])
def test_a_malformed_message_refuses_the_whole_import(db, rep, tmp_path, path_kind, bad, number,
                                                      words):
    db.session.commit()
    before = counts()
    path = export(tmp_path, [ig_message(ME, T, "Hi Lena!"), bad,
                             ig_message(ME, T + 2000, "ok")])
    with pytest.raises(ImportFailed) as e:
        run_cli_import(str(path), owner_email=rep.email, workers=0)
    text = str(e.value)
    # Messages are numbered oldest first within their thread.
    assert f"Thread “Lena Fischer”, message {number}:" in text and words in text
    assert "Nothing was imported" in text
    assert counts()["messages"] == before["messages"] == 0
    run = db.session.scalars(select(ImportRun)).one()
    assert run.status == "failed" and words in run.problems[0]


def test_the_web_import_names_the_malformed_message(auth, rep, tmp_path, import_storage):
    client = auth.login(rep)
    path = export(tmp_path, [ig_message(ME, T, "Hi"), ig_message("Lena Fischer", T + 1, "a\x00b")])
    rid = import_dm(client, path)
    run = db.session.get(ImportRun, rid)
    assert run.status == "failed"
    assert "message 2: The message text contains a NUL character." in run.problems[0]
    assert counts()["messages"] == 0
