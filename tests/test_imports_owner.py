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
