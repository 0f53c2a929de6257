"""`flask import-dms` given one file out of an export finds its owner beside it; --me takes a
display name, an @handle or an account id."""
import json

import pytest
from sqlalchemy import select

from crm.conversations.models import Message
from crm.extensions import db
from tests.test_imports_cli import cli
from tests.test_imports_support import DATA, FIXTURES, counts

X_DMS = FIXTURES / "x_twitter" / "data" / "direct-messages.js"


def outbound_bodies():
    return sorted(m.body for m in db.session.scalars(select(Message)) if m.direction == "out")


def test_one_x_file_reads_the_account_beside_it(app, db, admin):
    result = cli(app, X_DMS, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["messages_added"] == 7 and summary["platform"] == "x"
    assert outbound_bodies()   # the owner was found: their messages are outbound


@pytest.mark.parametrize("me", ["Alex Rivera", "@alexrivera_photo", "alexrivera_photo",
                                "1462553211098765312"])
def test_me_as_name_handle_or_id_means_the_same_account(app, db, admin, me):
    result = cli(app, FIXTURES / "x_twitter", "--me", me, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["messages_added"] == 7
    mine = outbound_bodies()
    db.session.query(Message).delete()
    db.session.commit()
    reference = cli(app, FIXTURES / "x_twitter", "--me", "1462553211098765312", "--json")
    assert reference.exit_code == 0 and outbound_bodies() == mine and mine


def test_one_instagram_file_reads_personal_information_around_it(app, db, admin):
    lone = DATA / "instagram_legacy/messages/inbox/jordanlee_178400001/message_1.json"
    result = cli(app, lone, "--json")
    assert result.exit_code == 0, result.output
    assert counts()["messages"] > 0 and outbound_bodies()


def test_me_still_refuses_someone_not_in_the_export(app, db, admin):
    result = cli(app, X_DMS, "--me", "@someone_else")
    assert result.exit_code == 1 and "nobody called '@someone_else'" in result.stderr
    assert counts()["messages"] == 0


# --------------------------------------------------------------------------- the web form
from tests.test_imports_support import (import_storage,  # noqa: E402,F401 (fixture)
                                        run_id, upload_dm)
from crm.imports.models import ImportRun  # noqa: E402


def test_upload_of_one_x_file_asks_and_says_which_file_names_the_owner(auth, rep):
    client = auth.login(rep)
    rid = run_id(upload_dm(client, X_DMS))
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "does not say which account is yours" in page and "data/account.js" in page
    # The upload is never looked beside: only what was uploaded is read.
    assert db.session.get(ImportRun, rid).options.get("detected_me") is None


def test_upload_of_the_x_file_with_its_account_file_needs_no_question(auth, rep):
    import io

    client = auth.login(rep)
    files = [(io.BytesIO(p.read_bytes()), p.name) for p in
             (X_DMS, X_DMS.parent / "account.js")]
    resp = client.post("/imports/dm", data={"tz": "UTC", "new_kind": "contact", "file": files},
                       content_type="multipart/form-data")
    rid = run_id(resp)
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "named in the export" in page and "data/account.js" not in page
    assert db.session.get(ImportRun, rid).options["detected_me"] == "1462553211098765312"
