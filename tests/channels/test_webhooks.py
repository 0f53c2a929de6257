"""/webhooks/meta/<key>: the handshake, the signature over the raw bytes, what is stored."""
import json

from sqlalchemy import func, select

from crm.channels import spool
from crm.channels.models import ChannelEvent
from tests.channels.helpers import (VERIFY_TOKEN, events_received, make_channel, payload,
                                    post_signed)


def _events(db):
    return events_received(db)


def test_handshake_answers_the_challenge_for_the_right_token(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    url = f"/webhooks/meta/{channel.key}"
    ok = client.get(url, query_string={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                       "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    assert ok.mimetype == "text/plain"
    wrong = client.get(url, query_string={"hub.mode": "subscribe", "hub.verify_token": "nope",
                                          "hub.challenge": "1"})
    assert wrong.status_code == 403 and "1" != wrong.get_data(as_text=True)
    assert client.get(url, query_string={"hub.mode": "unsubscribe",
                                         "hub.verify_token": VERIFY_TOKEN,
                                         "hub.challenge": "1"}).status_code == 403


def test_handshake_token_of_another_channel_is_refused(client, db):
    one = make_channel("instagram")
    other = make_channel("messenger")
    from crm.channels import secrets
    other.verify_token = secrets.encrypt("other-token")
    db.session.commit()
    response = client.get(f"/webhooks/meta/{other.key}", query_string={
        "hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "7"})
    assert response.status_code == 403
    assert one.key != other.key


def test_unknown_key_is_404_for_get_and_post(client, db):
    assert client.get("/webhooks/meta/nope").status_code == 404
    assert client.post("/webhooks/meta/nope", data=b"{}").status_code == 404
    assert _events(db) == 0


def test_signed_event_is_stored_as_received_and_answered_200(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    body = payload("instagram_raw_unicode.json")
    assert b"\\u00e9" in body and "🎉".encode() in body
    response = post_signed(client, channel, body)
    assert response.status_code == 200
    if spool.enabled():               # SQLite: in the spool until the worker moves it
        assert db.session.scalar(select(func.count()).select_from(ChannelEvent)) == 0
        assert spool.waiting() == 1 and spool.move_in() == 1 and spool.waiting() == 0
    stored = db.session.scalars(select(ChannelEvent)).one()
    assert stored.body == body and stored.status == "pending"


def test_signature_over_re_serialised_json_is_refused(client, db):
    """Meta signs the bytes it sent; the same JSON written differently is another body."""
    channel = make_channel("instagram")
    db.session.commit()
    body = payload("instagram_text.json")
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert reserialised != body
    from crm.channels.receiving import signature_of
    from tests.channels.helpers import APP_SECRET
    response = client.post(f"/webhooks/meta/{channel.key}", data=body, headers={
        "X-Hub-Signature-256": signature_of(APP_SECRET, reserialised)})
    assert response.status_code == 401 and _events(db) == 0


def test_missing_or_wrong_signature_is_401_before_parsing(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    url = f"/webhooks/meta/{channel.key}"
    assert client.post(url, data=payload("instagram_text.json")).status_code == 401
    assert client.post(url, data=b"not json at all",
                       headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}).status_code == 401
    assert post_signed(client, channel, payload("instagram_text.json"),
                       secret="another-apps-secret").status_code == 401
    assert client.post(url, data=b"{}", headers={"X-Hub-Signature-256": "sha1=abc"}
                       ).status_code == 401
    assert _events(db) == 0


def test_malformed_signed_bodies_are_refused_with_nothing_stored(client, db):
    channel = make_channel("instagram")
    db.session.commit()
    for body in (b"not json", b"[]", b'{"object": "page", "entry": []}',
                 b'{"object": "instagram", "entry": "x"}', b'{"object": "instagram"}',
                 b'{"object": "instagram", "entry": []}', b"\xff\xfe"):
        assert post_signed(client, channel, body).status_code == 400, body
    assert _events(db) == 0


def test_oversized_body_is_refused_with_nothing_stored(app, client, db):
    channel = make_channel("instagram")
    db.session.commit()
    body = json.dumps({"object": "instagram", "entry": [{"id": "1", "pad": "x" * (
        app.config["META_WEBHOOK_MAX_BYTES"])}]}).encode()
    assert post_signed(client, channel, body).status_code == 413
    assert _events(db) == 0


def test_whatsapp_event_for_a_whatsapp_channel_only(client, db):
    ig = make_channel("instagram")
    wa = make_channel("whatsapp")
    db.session.commit()
    body = payload("whatsapp_text.json")
    assert post_signed(client, ig, body).status_code == 400
    assert post_signed(client, wa, body).status_code == 200
    assert _events(db) == 1


def test_webhook_needs_no_session_or_csrf_token(app, client, db):
    channel = make_channel("messenger")
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = post_signed(client, channel, payload("messenger_text.json"))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 200


def test_acknowledging_commits_the_event_without_a_transaction_of_the_request(app, client, db):
    """The channel lookup and the event's INSERT run on a connection in autocommit: the
    request's session opens no transaction (no BEGIN and COMMIT round trips per event), and
    the event is committed before the 200 leaves. (The one commit left is the drain job's,
    queued with the first event.)"""
    import os
    import traceback
    from sqlalchemy import event as sa_event
    import crm
    package = os.path.dirname(crm.__file__) + os.sep
    channel = make_channel("instagram")
    db.session.commit()
    commits = []

    def listener(conn):   # the app's commits, not the test client's own before each request
        if any(f.filename.startswith(package) for f in traceback.extract_stack()):
            commits.append(conn)
    sa_event.listen(db.engine, "commit", listener)
    try:
        for n in range(3):
            body = json.dumps({"object": "instagram", "entry": [{"id": str(n)}]}).encode()
            assert post_signed(client, channel, body).status_code == 200
    finally:
        sa_event.remove(db.engine, "commit", listener)
    assert len(commits) <= 1
    if spool.enabled():
        spool.move_in()
    assert _events(db) == 3
