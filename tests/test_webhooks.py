"""Outbound webhooks: registration (private addresses, the secret shown once), events
emitted once by the service that writes the fact and never on rollback or by imports, the
signature checked by an independent implementation, retries against a real local receiver,
an endpoint turned off after failures in a row, the log's "send again", admin-only pages."""
import hashlib
import hmac
import ipaddress
import json
import ssl
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts import consent
from crm.contacts import services as contacts
from crm.conversations import ingest
from crm.conversations import services as conversations
from crm.conversations.models import INBOUND
from crm.core.timeutil import utcnow
from crm.jobs.models import Job
from crm.pipeline import services as pipeline
from crm.pipeline.models import LostReason, Stage
from crm.settings import services as settings
from crm.tasks import services as tasks
from crm.tasks.due import announce_due
from crm.tasks.models import Task
from crm.extensions import db
from crm.webhooks import addresses, delivery as deliveries, services
from crm.webhooks import jobs as webhook_jobs
from crm.webhooks.models import (EVENTS, WebhookAttempt, WebhookDelivery, WebhookEndpoint)
from tests import factories
from tests.test_imports_support import FIXTURES, import_dm, import_storage  # noqa: F401


class Receiver:
    """A real HTTP server on 127.0.0.1 in threads: keeps every request, answers with the
    next scripted status (then `default`)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.script: list[int] = []
        self.default = 200
        self.delay = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers),
                                          "body": body})
                status = receiver.script.pop(0) if receiver.script else receiver.default
                time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/rapport?team=1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def types(self) -> list[str]:
        return [json.loads(r["body"])["type"] for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def private_allowed(db, admin):
    """The local receiver is on 127.0.0.1, a private address: allowed, as an admin may."""
    services.set_allow_private(admin, True)
    db.session.commit()


def register(db, admin, url, events=tuple(EVENTS)):
    endpoint, secret = services.register(admin, url=url, events=list(events))
    db.session.commit()
    return endpoint, secret


def sent() -> list[WebhookDelivery]:
    """Every delivery recorded, oldest first (read afresh: jobs commit in their own session)."""
    db.session.expire_all()
    return list(db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def types_of(rows) -> list[str]:
    return [r.event_type for r in rows]


def verify(secret: str, request: dict, tolerance: int = 300) -> dict:
    """What a receiver does, written from the README's description with the hmac module,
    not with Rapport's code: check the signature of "timestamp.body", then read the JSON."""
    timestamp = request["headers"]["Rapport-Timestamp"]
    scheme, _, given = request["headers"]["Rapport-Signature"].partition("=")
    expected = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." +
                        request["body"], hashlib.sha256).hexdigest()
    assert scheme == "v1"
    assert hmac.compare_digest(given, expected), "bad signature"
    assert abs(int(utcnow().timestamp()) - int(timestamp)) < tolerance
    return json.loads(request["body"])


# -- signing and the payload -----------------------------------------------------------------
def test_a_delivery_is_signed_as_documented(db, admin, rep, receiver, private_allowed):
    endpoint, secret = register(db, admin, receiver.url, ["contact.created"])
    contact = contacts.create_contact(rep, {"name": "Maya Chen", "email": "maya@x.test"},
                                      handles=[{"platform": "instagram", "handle": "maya.chen"}])
    db.session.commit()           # the job runs when the transaction commits (tests: at once)
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    assert request["path"] == "/hooks/rapport?team=1"
    assert request["headers"]["Content-Type"] == "application/json"
    doc = verify(secret, request)
    assert doc["type"] == "contact.created" == request["headers"]["Rapport-Event-Type"]
    assert doc["id"].startswith("evt_") and doc["id"] == request["headers"]["Rapport-Event-Id"]
    assert doc["created_at"].endswith("Z")
    assert doc["data"]["id"] == contact.id and doc["data"]["name"] == "Maya Chen"
    assert doc["data"]["handles"] == [{"platform": "instagram", "handle": "maya.chen"}]
    # The check can fail: another secret, or a body changed by one byte, does not verify.
    with pytest.raises(AssertionError, match="bad signature"):
        verify("whsec_someone-else", request)
    with pytest.raises(AssertionError, match="bad signature"):
        verify(secret, {**request, "body": request["body"].replace(b"Maya", b"Mayo")})
    row, = sent()
    assert row.status == "delivered" and row.attempts == 1 and row.response_code == 200
    assert row.duration_ms is not None


def test_the_secret_is_shown_once_and_stored_encrypted(db, admin, auth, monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
    client = auth.login(admin)
    resp = client.post("/admin/webhooks", data={"url": "https://hooks.example.com/in",
                                                "description": "Won deals to chat",
                                                "events": ["deal.won", "deal.lost"]})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    secret = html.split('id="webhook-secret" type="text" readonly value="')[1].split('"')[0]
    assert secret.startswith("whsec_") and len(secret) > 40
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.events == ["deal.won", "deal.lost"] and endpoint.secret == secret
    raw = db.session.execute(db.text("SELECT secret FROM webhook_endpoints")).scalar()
    assert secret not in raw and raw.startswith("gAAAA")          # a Fernet token
    for url in ("/admin/webhooks", f"/admin/webhooks/{endpoint.id}"):
        page = client.get(url).get_data(as_text=True)
        assert "hooks.example.com/in" in page and secret not in page
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.entity_type == "webhook_endpoint", AuditEvent.action == "create")) == 1


@pytest.mark.parametrize("url, words", [
    ("ftp://files.example.com/in", "Only http:// and https://"),
    ("javascript:alert(1)", "Only http:// and https://"),
    ("https://", "no host name"),
    ("https://user:pw@hooks.example.com/", "Leave user names and passwords out"),
    ("http://127.0.0.1:9/in", "private address (127.0.0.1)"),
    ("http://localhost/in", "private address"),
    ("http://10.1.2.3/in", "private address (10.1.2.3)"),
    ("http://192.168.0.10/in", "private address"),
    ("http://169.254.169.254/latest/meta-data", "private address (169.254.169.254)"),
    ("http://[::1]/in", "private address (::1)"),
    ("http://[::ffff:10.0.0.1]/in", "private address"),
    ("http://0.0.0.0/in", "private address"),
])
def test_bad_and_private_urls_are_refused(db, admin, auth, url, words):
    resp = auth.login(admin).post("/admin/webhooks", data={"url": url, "events": ["deal.won"]})
    assert resp.status_code == 200
    assert words in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_a_name_resolving_to_a_private_address_is_refused(db, admin, monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14", "10.0.0.7"])
    db.session.commit()
    with pytest.raises(Exception, match=r"resolves to a private address \(10.0.0.7\)"):
        services.register(admin, url="https://inside.example.com/", events=["deal.won"])
    db.session.rollback()
    services.set_allow_private(admin, True)
    endpoint, _ = services.register(admin, url="https://inside.example.com/",
                                    events=["deal.won"])
    assert endpoint.id


def test_bad_input_names_the_field_and_writes_nothing(db, admin, auth, monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
    client = auth.login(admin)
    html = client.post("/admin/webhooks", data={"url": "https://hooks.example.com/"}
                       ).get_data(as_text=True)
    assert "Choose at least one event." in html
    html = client.post("/admin/webhooks", data={"url": "https://hooks.example.com/",
                                                "events": ["deal.won", "deal.exploded"]}
                       ).get_data(as_text=True)
    assert "Unknown event “deal.exploded”." in html
    html = client.post("/admin/webhooks", data={"url": "", "events": ["deal.won"]}
                       ).get_data(as_text=True)
    assert "This field is required." in html
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_the_address_is_checked_again_at_delivery(db, admin, rep, receiver, monkeypatch):
    """A host that resolved to a public address when registered and to a private one when
    the delivery goes out (DNS rebinding) is refused then: nothing reaches it."""
    answers = {"now": ["93.184.215.14"]}
    monkeypatch.setattr(addresses, "resolve", lambda host, port: answers["now"])
    port = receiver.server.server_port
    register(db, admin, f"http://hooks.example.com:{port}/in", ["contact.created"])
    answers["now"] = ["127.0.0.1"]
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.commit()
    assert receiver.requests == []
    row, = sent()
    assert row.status == "retrying" and row.attempts == 1 and row.response_code is None
    assert "resolves to a private address (127.0.0.1)" in row.error
    # Allowed by an admin, the same delivery goes to the checked address when it is due.
    services.set_allow_private(admin, True)
    db.session.commit()
    webhook_jobs.send_due(now=row.next_attempt_at)
    db.session.commit()
    assert len(receiver.requests) == 1 and sent()[0].status == "delivered"
    assert receiver.requests[0]["headers"]["Host"] == f"hooks.example.com:{port}"


# -- events: once, from the service that writes the fact, never on rollback ----------------
def test_each_event_is_emitted_once_by_the_service_that_writes_it(db, admin, rep, receiver,
                                                                   private_allowed):
    register(db, admin, receiver.url)

    def step(expected):
        db.session.commit()
        new = [r for r in sent() if r.id not in seen]
        seen.update(r.id for r in new)
        assert types_of(new) == expected
        assert all(r.status == "delivered" for r in new)
    seen: set[int] = set()

    contact = contacts.create_contact(rep, {"name": "Maya Chen"})
    step(["contact.created"])
    contacts.update_contact(rep, contact, {"name": "Maya Chen-Li"})
    step([])
    conversations.log_message(rep, contact, platform="instagram", direction="in",
                              body="Hi! Rates?", sent_at=utcnow() - timedelta(hours=2))
    step(["message.received", "conversation.needs_reply"])
    message = conversations.log_message(rep, contact, platform="instagram", direction="out",
                                        body="Sending them now",
                                        sent_at=utcnow() - timedelta(hours=1))
    step(["message.sent"])
    conv = message.conversation
    # A live DM (the channels' worker and the API use the same road): received, and the
    # conversation waits on us again.
    ingest.ingest(None, conv, [ingest.IncomingMessage(INBOUND, utcnow(), "Deal!",
                                                      external_id="mid.1")],
                  source=ingest.LIVE)
    step(["message.received", "conversation.needs_reply"])
    # Meta retries the same event: nothing new is written, nothing is sent.
    ingest.ingest(None, conv, [ingest.IncomingMessage(INBOUND, utcnow(), "Deal!",
                                                      external_id="mid.1")],
                  source=ingest.LIVE)
    step([])
    deal = factories.DealFactory(contact=contact, owner_id=rep.id)
    db.session.commit()
    step([])
    stages = db.session.scalars(select(Stage).where(Stage.pipeline_id == deal.pipeline_id)
                                .order_by(Stage.position)).all()
    second = next(s for s in stages if s.outcome == "open" and s.id != deal.stage_id)
    pipeline.move_deal(rep, deal, second.id)
    step(["deal.stage_changed"])
    pipeline.close_deal(rep, deal, "won")
    step(["deal.stage_changed", "deal.won"])
    other = factories.DealFactory(contact=contact, owner_id=rep.id)
    db.session.commit()
    step([])
    reason = db.session.scalars(select(LostReason)).first()
    pipeline.close_deal(rep, other, "lost", lost_reason_id=reason.id)
    step(["deal.stage_changed", "deal.lost"])
    consent.change_consent(rep, contact, status="opted_in", source="Agreed in DM")
    step([])
    consent.change_consent(rep, contact, status="opted_out", source="Replied STOP")
    step(["contact.opted_out"])
    consent.change_consent(rep, contact, do_not_contact=True, source="Legal")
    step([])                       # already out of reach: opted out once, announced once
    other_contact = contacts.create_contact(rep, {"name": "Otto"})
    step(["contact.created"])
    consent.change_consent(rep, other_contact, do_not_contact=True, source="Legal")
    step(["contact.opted_out"])
    # Tasks: announced when they come due, once; again after a snooze, when the new time comes.
    task = tasks.create_task(rep, {"title": "Send the brief",
                                   "due_at": utcnow() + timedelta(hours=1)})
    db.session.commit()
    step([])
    assert announce_due() == 0
    step([])
    later = utcnow() + timedelta(hours=2)
    assert announce_due(now=later) == 1
    step(["task.due"])
    assert announce_due(now=later) == 0
    step([])
    task = db.session.get(Task, task.id)
    task.due_at = later + timedelta(days=1)       # snoozed
    db.session.commit()
    assert announce_due(now=later + timedelta(days=1, minutes=1)) == 1
    step(["task.due"])
    # What the receiver got is exactly what was recorded, each event once.
    assert receiver.types() == types_of(sent())
    assert len({json.loads(r["body"])["id"] for r in receiver.requests}) == len(receiver.requests)


def test_a_rolled_back_write_sends_nothing(db, admin, rep, receiver, private_allowed):
    register(db, admin, receiver.url)
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.flush()
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    db.session.rollback()
    assert sent() == [] and receiver.requests == []
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    # Inside a savepoint that rolls back (as a batch retried one by one does), the event
    # goes with it; what the transaction keeps is sent once it commits.
    kept = contacts.create_contact(rep, {"name": "Kept"})
    nested = db.session.begin_nested()
    contacts.create_contact(rep, {"name": "Lost in the savepoint"})
    nested.rollback()
    after = contacts.create_contact(rep, {"name": "Kept too"})
    db.session.commit()
    rows = sent()
    assert [json.loads(r.body)["data"]["id"] for r in rows] == [kept.id, after.id]
    assert [r.status for r in rows] == ["delivered", "delivered"]
    assert [json.loads(r["body"])["data"]["name"] for r in receiver.requests] == [
        "Kept", "Kept too"]


def test_events_nobody_wants_write_nothing(db, admin, rep, receiver, private_allowed):
    register(db, admin, receiver.url, ["deal.won"])
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.commit()
    assert sent() == [] and receiver.requests == []
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_imports_are_history_and_emit_nothing(db, admin, rep, receiver, private_allowed, auth):
    register(db, admin, receiver.url)
    rid = import_dm(auth.login(rep), FIXTURES / "instagram")
    assert rid
    from crm.conversations.models import Message
    assert db.session.scalar(select(func.count()).select_from(Message)) > 0
    assert sent() == [] and receiver.requests == []


# -- retries, giving up, turning an endpoint off ---------------------------------------------
def test_a_failed_delivery_is_retried_with_backoff_until_it_succeeds(db, admin, rep, receiver,
                                                                    private_allowed):
    endpoint, secret = register(db, admin, receiver.url, ["contact.created"])
    receiver.script = [500, 503]
    before = utcnow()
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.commit()
    row, = sent()
    assert (row.status, row.attempts, row.response_code) == ("retrying", 1, 500)
    first_wait = row.next_attempt_at - row.last_attempt_at
    assert timedelta(seconds=59) <= first_wait <= timedelta(seconds=61)
    assert row.last_attempt_at >= before.replace(microsecond=0) - timedelta(seconds=1)
    # Not due yet: nothing is sent.
    assert webhook_jobs.send_due(now=row.next_attempt_at - timedelta(seconds=1)) == 0
    db.session.commit()
    assert len(receiver.requests) == 1
    assert webhook_jobs.send_due(now=row.next_attempt_at) == 1
    db.session.commit()
    row, = sent()
    assert (row.status, row.attempts, row.response_code) == ("retrying", 2, 503)
    second_wait = row.next_attempt_at - row.last_attempt_at
    assert timedelta(seconds=119) <= second_wait <= timedelta(seconds=121)
    webhook_jobs.send_due(now=row.next_attempt_at)
    db.session.commit()
    row, = sent()
    assert (row.status, row.attempts, row.response_code) == ("delivered", 3, 200)
    # Every attempt carried the same event, signed afresh, and each is in the log.
    docs = [verify(secret, r) for r in receiver.requests]
    assert len(docs) == 3 and len({d["id"] for d in docs}) == 1
    assert len({r["body"] for r in receiver.requests}) == 1
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.number, a.ok, a.response_code) for a in attempts] == [
        (1, False, 500), (2, False, 503), (3, True, 200)]
    db.session.refresh(endpoint)
    assert endpoint.consecutive_failures == 0 and endpoint.last_success_at is not None


def test_retries_double_up_to_six_hours_and_stop_after_a_day(app, db, admin, rep, receiver,
                                                             private_allowed, monkeypatch):
    waits = [deliveries.wait_after(n) for n in range(1, 13)]
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == timedelta(hours=6) and waits[-1] == timedelta(hours=6)
    register(db, admin, receiver.url, ["contact.created"])
    receiver.default = 500
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.commit()
    row, = sent()
    # Each attempt happens when it is due: the delivery's clock follows the schedule.
    clock = {"now": row.next_attempt_at}
    monkeypatch.setattr(deliveries, "utcnow", lambda: clock["now"])
    attempts, times = 1, [row.last_attempt_at]
    while row.status == "retrying":
        assert row.next_attempt_at <= row.retry_until
        clock["now"] = row.next_attempt_at
        assert webhook_jobs.send_due(now=clock["now"]) == 1
        db.session.commit()
        row, = sent()
        attempts += 1
        times.append(row.last_attempt_at)
        assert attempts < 30
    # 1, 2, 4 … minutes apart, at most 6 hours; the last attempt when the day is over.
    gaps = [(b - a).total_seconds() / 60 for a, b in zip(times, times[1:])]
    assert gaps[:8] == [1, 2, 4, 8, 16, 32, 64, 128]
    assert max(gaps) == 360
    assert times[-1] == row.retry_until and row.retry_until - row.created_at == timedelta(hours=24)
    assert row.status == "failed" and row.attempts == attempts == len(receiver.requests) == 13
    assert webhook_jobs.send_due(now=row.retry_until + timedelta(days=1)) == 0


def test_an_endpoint_failing_again_and_again_is_turned_off(app, db, admin, rep, receiver,
                                                           private_allowed, auth, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_DISABLE_AFTER", 3)
    endpoint, _ = register(db, admin, receiver.url, ["contact.created"])
    receiver.default = 500
    for name in ("Ann", "Ben", "Cy"):
        contacts.create_contact(rep, {"name": name})
        db.session.commit()
    db.session.refresh(endpoint)
    assert not endpoint.enabled and endpoint.consecutive_failures == 3
    assert "Turned off after 3 failed attempts in a row" in endpoint.disabled_reason
    assert "HTTP 500" in endpoint.disabled_reason
    notice = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "webhook_disabled")).one()
    assert notice.entity_id == endpoint.id and receiver.url in notice.summary
    page = auth.login(admin).get("/admin/webhooks").get_data(as_text=True)
    assert "was turned off" in page and "Turned off after 3 failed attempts" in page
    # Off: new events are not recorded for it, and its waiting retries are kept, not sent.
    contacts.create_contact(rep, {"name": "Dee"})
    db.session.commit()
    assert len(sent()) == 3 and len(receiver.requests) == 3
    assert webhook_jobs.send_due(now=utcnow() + timedelta(days=2)) == 0
    # Turned on again, the kept deliveries go out when the retries run.
    receiver.default = 200
    resp = auth.login(admin).post(f"/admin/webhooks/{endpoint.id}/enabled", data={"enabled": "1"})
    assert resp.status_code == 302
    db.session.refresh(endpoint)
    assert endpoint.enabled and endpoint.disabled_reason is None
    assert webhook_jobs.send_due() == 3
    db.session.commit()
    assert [r.status for r in sent()] == ["delivered"] * 3 and len(receiver.requests) == 6
    assert "was turned off" not in auth.login(admin).get("/admin/webhooks").get_data(as_text=True)


def test_send_again_from_the_log(app, db, admin, rep, receiver, private_allowed, auth):
    endpoint, secret = register(db, admin, receiver.url, ["contact.created"])
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.commit()
    first, = sent()
    client = auth.login(admin)
    page = client.get(f"/admin/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "contact.created" in page and "Delivered" in page and "HTTP 200" in page
    assert f"/admin/webhooks/deliveries/{first.id}/again" in page
    resp = client.post(f"/admin/webhooks/deliveries/{first.id}/again")
    assert resp.status_code == 302
    rows = sent()
    assert len(rows) == 2 and rows[1].resent_from_id == first.id
    assert rows[1].status == "delivered" and rows[1].event_id == first.event_id
    assert [verify(secret, r)["id"] for r in receiver.requests] == [first.event_id] * 2
    # Still being tried: refused, with a message, nothing added.
    rows[1].status = "retrying"
    db.session.commit()
    page = client.post(f"/admin/webhooks/deliveries/{rows[1].id}/again",
                       follow_redirects=True).get_data(as_text=True)
    assert "still being tried" in page and len(sent()) == 2


def test_old_finished_deliveries_are_forgotten(app, db, admin, rep, receiver, private_allowed):
    register(db, admin, receiver.url, ["contact.created"])
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.commit()
    assert webhook_jobs.forget_old(now=utcnow() + timedelta(days=29)) == 0
    assert webhook_jobs.forget_old(now=utcnow() + timedelta(days=31)) == 1
    db.session.commit()
    assert sent() == [] and db.session.scalar(
        select(func.count()).select_from(WebhookAttempt)) == 0


def test_deleting_an_endpoint_removes_its_log(db, admin, rep, receiver, private_allowed, auth):
    endpoint, _ = register(db, admin, receiver.url, ["contact.created"])
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.commit()
    assert auth.login(admin).post(f"/admin/webhooks/{endpoint.id}/delete").status_code == 302
    assert sent() == [] and db.session.scalar(
        select(func.count()).select_from(WebhookEndpoint)) == 0


# -- who may ---------------------------------------------------------------------------------
def test_only_admins_see_or_change_webhooks(db, admin, manager, rep, receiver, private_allowed,
                                            auth):
    endpoint, _ = register(db, admin, receiver.url, ["contact.created"])
    contacts.create_contact(rep, {"name": "Maya Chen"})
    db.session.commit()
    delivery, = sent()
    for user in (manager, rep):
        client = auth.login(user)
        for url in ("/admin/webhooks", f"/admin/webhooks/{endpoint.id}"):
            assert client.get(url).status_code == 404
        for url, data in (("/admin/webhooks", {"url": receiver.url, "events": ["deal.won"]}),
                          (f"/admin/webhooks/{endpoint.id}/enabled", {"enabled": "0"}),
                          (f"/admin/webhooks/{endpoint.id}/delete", {}),
                          (f"/admin/webhooks/deliveries/{delivery.id}/again", {}),
                          ("/admin/webhooks/private", {"allow_private": "y"})):
            assert client.post(url, data=data).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 1
    assert db.session.get(WebhookEndpoint, endpoint.id).enabled
    assert len(sent()) == 1
    client = auth.login(admin)
    assert client.get("/admin/webhooks").status_code == 200
    assert client.get(f"/admin/webhooks/{endpoint.id}").status_code == 200
    assert client.get("/admin/webhooks", headers={"HX-Request": "true"}).status_code == 200


def test_webhook_posts_need_the_csrf_token(app, db, admin, monkeypatch):
    from config import TestConfig
    from crm import create_app
    from crm.accounts import sessions

    monkeypatch.setattr(addresses, "resolve", lambda host, port: ["93.184.215.14"])
    csrf_app = create_app(type("C", (TestConfig,), {
        "WTF_CSRF_ENABLED": True,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}))
    client = csrf_app.test_client()
    secret = sessions.start(admin)
    db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = secret
    form = {"url": "https://hooks.example.com/in", "events": ["deal.won"]}
    with csrf_app.app_context():
        assert client.post("/admin/webhooks", data=form).status_code == 400
        assert client.post("/admin/webhooks/private", data={"allow_private": "y"}
                           ).status_code == 400
        page = client.get("/admin/webhooks").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0] \
            if 'name="csrf_token" type="hidden" value="' in page else \
            page.split('name="csrf_token" value="')[1].split('"')[0]
        assert client.post("/admin/webhooks", data={**form, "csrf_token": token}
                           ).status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 1
    assert settings.get("webhooks_allow_private") is False


def test_the_api_road_emits_like_the_others(db, admin, rep, receiver, private_allowed, client):
    """Messages posted to /api/v1/messages go through the ingestion service, so they emit
    as live DMs do: once, nothing for a retry, nothing for a refused request."""
    from tests.api.conftest import Api, make_token

    register(db, admin, receiver.url)
    api = Api(client, make_token(rep))
    at = (utcnow() - timedelta(minutes=5)).isoformat() + "Z"
    body = {"contact": {"handle": {"platform": "linkedin", "handle": "lee-lin"}},
            "platform": "linkedin", "create_contact": {"name": "Lee Lin"},
            "messages": [{"direction": "in", "sent_at": at, "body": "Interested?",
                          "external_id": "li-1"}]}
    assert api.post("/api/v1/messages", json=body).status_code == 201
    assert types_of(sent()) == ["contact.created", "message.received",
                                "conversation.needs_reply"]
    assert api.post("/api/v1/messages", json=body).status_code == 200      # a retry
    future = (utcnow() + timedelta(days=2)).isoformat() + "Z"
    refused = {**body, "contact": {"handle": {"platform": "linkedin", "handle": "new-one"}},
               "create_contact": {"name": "New One"},
               "messages": [{"direction": "in", "sent_at": at, "body": "ok", "external_id": "n-1"},
                            {"direction": "in", "sent_at": future, "body": "later",
                             "external_id": "n-2"}]}
    assert api.post("/api/v1/messages", json=refused).status_code == 422
    assert len(sent()) == 3 and receiver.types() == types_of(sent())
    assert all(r.status == "delivered" for r in sent())


def test_slow_answers_redirects_and_untrusted_certificates_are_failures(
        app, db, admin, rep, receiver, private_allowed, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    register(db, admin, receiver.url, ["contact.created"])
    receiver.script, receiver.delay = [302], 0.0
    contacts.create_contact(rep, {"name": "Redirected"})
    db.session.commit()
    receiver.delay = 1.0
    contacts.create_contact(rep, {"name": "Slow"})
    db.session.commit()
    redirected, slow = sent()
    assert redirected.status == "retrying" and redirected.response_code == 302
    assert "redirects are not followed" in redirected.error
    assert slow.status == "retrying" and slow.response_code is None
    assert slow.error == "No answer within 0.3 seconds."
    # https: the certificate is checked against the URL's host (a self-signed one fails).
    tls = Receiver()
    try:
        cert, key = _self_signed(tmp_path)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        tls.server.socket = context.wrap_socket(tls.server.socket, server_side=True)
        register(db, admin, f"https://127.0.0.1:{tls.server.server_port}/in",
                 ["contact.created"])
        contacts.create_contact(rep, {"name": "Over TLS"})
        db.session.commit()
        row = sent()[-1]
        assert row.status == "retrying" and row.response_code is None
        assert row.error.startswith("TLS failed") and "CERTIFICATE_VERIFY_FAILED" in row.error
        assert tls.requests == []
    finally:
        tls.close()


def _self_signed(folder):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(
                ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)
