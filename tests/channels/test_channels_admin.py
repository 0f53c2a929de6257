"""Connecting channels: the admin page, the CLI, secrets encrypted at rest."""
import json

from sqlalchemy import select, text

from crm.channels import secrets
from crm.channels.models import NEEDS_RECONNECTING, Channel
from crm.channels.services import mark_needs_reconnecting
from tests.channels.helpers import ACCESS_TOKEN, APP_SECRET, IDS, VERIFY_TOKEN, make_channel

FORM = {"kind": "instagram", "name": "Brand IG", "account_id": IDS["instagram"],
        "app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "access_token": ACCESS_TOKEN}


def test_admin_connects_a_channel_secrets_encrypted_at_rest(auth, admin, db):
    client = auth.login(admin)
    response = client.post("/admin/channels", data=FORM, follow_redirects=True)
    assert response.status_code == 200
    channel = db.session.scalars(select(Channel)).one()
    page = response.get_data(as_text=True)
    assert f"/webhooks/meta/{channel.key}" in page
    for secret in (APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN):
        assert secret not in page
    row = db.session.execute(text("SELECT app_secret, verify_token, access_token FROM channels")
                             ).one()
    assert APP_SECRET not in row[0] and VERIFY_TOKEN not in row[1] and ACCESS_TOKEN not in row[2]
    assert secrets.decrypt(row[0]) == APP_SECRET


def test_admin_bad_input_names_the_field_and_adds_nothing(auth, admin, db):
    client = auth.login(admin)
    response = client.post("/admin/channels", data={**FORM, "account_id": "not-a-number"})
    assert response.status_code == 200
    assert "is a number" in response.get_data(as_text=True)
    response = client.post("/admin/channels", data={**FORM, "kind": "whatsapp"})
    assert "phone number id" in response.get_data(as_text=True)
    assert db.session.scalars(select(Channel)).all() == []


def test_same_account_cannot_be_connected_twice(auth, admin, db):
    make_channel("instagram")
    client = auth.login(admin)
    response = client.post("/admin/channels", data=FORM)
    assert "already connected" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Channel)).all()) == 1


def test_channels_page_is_for_admins_only(auth, rep, manager, db):
    assert auth.login(rep).get("/admin/channels").status_code in (403, 404)
    assert auth.login(manager).post("/admin/channels", data=FORM).status_code in (403, 404)
    assert db.session.scalars(select(Channel)).all() == []


def test_csrf_is_required_on_the_channels_form(app, auth, admin, db):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = auth.login(admin).post("/admin/channels", data=FORM)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert db.session.scalars(select(Channel)).all() == []


def test_revoked_channel_shows_on_admin_page_and_in_banner(auth, admin, rep, db):
    channel = make_channel("messenger", name="Brand Page")
    mark_needs_reconnecting(channel, "Error validating access token: the user changed their "
                                     "password.")
    db.session.commit()
    page = auth.login(admin).get("/admin/channels").get_data(as_text=True)
    assert "Needs reconnecting" in page and "changed their password" in page
    home = auth.login(rep).get("/contacts").get_data(as_text=True)
    assert "“Brand Page” needs reconnecting" in home and "Ask an admin" in home
    client = auth.login(admin)
    client.post(f"/admin/channels/{channel.id}/reconnect",
                data={"access_token": "EAAG-new-token-000000"})
    db.session.refresh(channel)
    assert channel.status == "connected"
    assert secrets.decrypt(channel.access_token) == "EAAG-new-token-000000"
    assert "needs reconnecting" not in client.get("/contacts").get_data(as_text=True)


def test_whatsapp_templates_and_human_agent_toggle(auth, admin, db):
    wa = make_channel("whatsapp")
    ig = make_channel("instagram")
    client = auth.login(admin)
    client.post(f"/admin/channels/{wa.id}/templates",
                data={"name": "collab_followup", "language": "en_US",
                      "body": "Hi {{1}}, following up on {{2}}."})
    bad = client.post(f"/admin/channels/{wa.id}/templates", follow_redirects=True,
                      data={"name": "Bad Name", "language": "en_US", "body": "x"})
    assert "lower-case" in bad.get_data(as_text=True)
    assert [(t.name, t.variables) for t in wa.templates] == [("collab_followup", 2)]
    client.post(f"/admin/channels/{ig.id}/human-agent", data={"enabled": "1"})
    db.session.refresh(ig)
    assert ig.human_agent is True


def test_cli_add_and_list_json(app, db):
    runner = app.test_cli_runner()
    result = runner.invoke(args=[
        "channels", "add", "--kind", "whatsapp", "--name", "Support line",
        "--app-secret", APP_SECRET, "--verify-token", VERIFY_TOKEN,
        "--access-token", ACCESS_TOKEN, "--account-id", IDS["whatsapp"],
        "--phone-number-id", "109000000000001", "--json"])
    assert result.exit_code == 0, result.output
    added = json.loads(result.output)
    assert added["kind"] == "whatsapp" and "/webhooks/meta/" in added["callback_url"]
    assert APP_SECRET not in result.output and ACCESS_TOKEN not in result.output
    listed = json.loads(runner.invoke(args=["channels", "list", "--json"]).output)
    assert [c["name"] for c in listed] == ["Support line"]
    assert listed[0]["access_token"].startswith("••••")


def test_cli_add_bad_input_is_one_clear_line(app, db):
    result = app.test_cli_runner().invoke(args=[
        "channels", "add", "--kind", "instagram", "--name", "X", "--app-secret", "s",
        "--verify-token", "v", "--access-token", "a", "--account-id", "abc"])
    assert result.exit_code != 0 and "is a number" in result.output
    assert "Traceback" not in result.output
    assert db.session.scalars(select(Channel)).all() == []


def test_missing_encryption_key_is_a_clear_error(app, db):
    key = app.config["CHANNELS_ENCRYPTION_KEY"]
    app.config["CHANNELS_ENCRYPTION_KEY"] = None
    try:
        result = app.test_cli_runner().invoke(args=[
            "channels", "add", "--kind", "instagram", "--name", "X", "--app-secret", "s",
            "--verify-token", "v", "--access-token", "a", "--account-id", "1"])
    finally:
        app.config["CHANNELS_ENCRYPTION_KEY"] = key
    assert result.exit_code != 0 and "CHANNELS_ENCRYPTION_KEY" in result.output


def test_key_rotation_reads_secrets_written_under_the_old_key(app, db):
    channel = make_channel("instagram")
    old = app.config["CHANNELS_ENCRYPTION_KEY"]
    app.config["CHANNELS_ENCRYPTION_KEY"] = secrets.new_key() + "," + old
    try:
        assert secrets.decrypt(channel.app_secret) == APP_SECRET
    finally:
        app.config["CHANNELS_ENCRYPTION_KEY"] = old
    assert channel.status != NEEDS_RECONNECTING
