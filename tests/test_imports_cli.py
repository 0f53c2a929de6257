"""`flask import-dms`: dry run, --json, owners, errors, progress."""
import json

from sqlalchemy import select

from crm.contacts.models import Contact
from crm.conversations.models import Message
from crm.extensions import db
from crm.imports.models import ImportRun
from tests import factories
from tests.test_imports_support import (import_storage,  # noqa: F401 (fixture)
                                        DATA, FIXTURES, counts, nothing_written)

KEYS = {"threads", "messages_added", "duplicates_skipped", "contacts_created",
        "contacts_matched", "problems"}


def cli(app, *args):
    db.session.commit()  # the command runs in its own app context and session
    result = app.test_cli_runner().invoke(args=["import-dms", *map(str, args)])
    db.session.expire_all()
    return result


def test_dry_run_writes_nothing(app, db, admin):
    result = cli(app, DATA / "instagram_legacy", "--dry-run")
    assert result.exit_code == 0, result.output
    # 13 entries that are messages, less "The video chat ended." (a call, not a message).
    assert "Would add 12 messages in 3 conversations" in result.stdout
    assert "Dry run: nothing was written." in result.stdout
    assert nothing_written() and db.session.scalars(select(ImportRun)).all() == []
    result = cli(app, DATA / "instagram_legacy", "--dry-run", "--json")
    summary = json.loads(result.stdout)
    assert KEYS <= set(summary) and summary["dry_run"] is True
    assert (summary["messages_added"], summary["contacts_created"], summary["threads"]) == (12, 2, 3)
    assert nothing_written()


def test_json_summary_and_reimport(app, db, admin):
    result = cli(app, FIXTURES / "x_twitter", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert KEYS <= set(summary)
    assert summary["messages_added"] == 7 and summary["threads"] == 2
    assert summary["platform"] == "x" and summary["problems"] == []
    assert "7 / 7 messages" in result.stderr                     # progress goes to stderr
    again = json.loads(cli(app, FIXTURES / "x_twitter", "--json").stdout)
    assert again["messages_added"] == 0 and again["duplicates_skipped"] == 7
    assert again["contacts_matched"] == 2 and again["contacts_created"] == 0
    runs = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [r.status for r in runs] == ["done", "done"] and runs[0].created_by_id == admin.id


def test_owner_and_me(app, db, rep, other_rep):
    theirs = factories.ContactFactory(name="Maya Lindqvist", owner_id=other_rep.id)
    db.session.commit()
    result = cli(app, FIXTURES / "instagram", "--owner", rep.email)
    assert result.exit_code == 1
    assert "does not say which account is yours" in result.stderr and "Maya Lindqvist" in \
        result.stderr
    assert counts()["messages"] == 0
    result = cli(app, FIXTURES / "instagram", "--owner", rep.email, "--me", "Alex Rivera")
    assert result.exit_code == 0, result.output
    mine = db.session.scalars(select(Contact).where(Contact.owner_id == rep.id)).one()
    assert mine.id != theirs.id and mine.name == "Maya Lindqvist"   # not matched: out of scope
    assert {m.author_id for m in db.session.scalars(select(Message)) if m.direction == "out"} \
        == {rep.id}
    assert cli(app, FIXTURES / "instagram", "--owner", "nobody@example.com").exit_code == 1
    result = cli(app, FIXTURES / "instagram", "--owner", rep.email, "--me", "Someone Else")
    assert result.exit_code == 1 and "nobody called 'Someone Else'" in result.stderr


def test_errors_name_the_file_and_write_nothing(app, db, admin, tmp_path):
    bad = tmp_path / "message_1.json"
    bad.write_text('{"participants": [], "messages": [')
    result = cli(app, bad, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["error"].startswith("message_1.json: malformed JSON")
    assert summary["messages_added"] == 0 and nothing_written()
    result = cli(app, tmp_path / "missing.zip")
    assert result.exit_code == 1 and "missing.zip: no such file" in result.stderr
    result = cli(app, DATA / "whatsapp_us_plain", "--me", "Alex Rivera")
    assert result.exit_code == 1 and "--day-first or --month-first" in result.stderr
    result = cli(app, DATA / "whatsapp_us_plain", "--me", "Alex Rivera", "--month-first",
                 "--tz", "America/New_York")
    assert result.exit_code == 0, result.output
    first = db.session.scalars(select(Message).order_by(Message.sent_at)).first()
    assert first.sent_at.isoformat() == "2024-03-10T00:45:00"   # 9 Mar, 7:45 PM in New York
    assert cli(app, DATA / "tiktok_legacy", "--tz", "Mars/Olympus").exit_code == 1


def test_skip_groups(app, db, admin):
    result = cli(app, DATA / "instagram_legacy", "--skip-groups", "--json")
    summary = json.loads(result.stdout)
    assert summary["threads"] == 2 and summary["messages_added"] == 8
    assert counts()["conversations"] == 2


def test_no_admin_and_no_owner(app, db):
    result = cli(app, DATA / "tiktok_legacy")
    assert result.exit_code == 1 and "no admin user yet" in result.stderr
