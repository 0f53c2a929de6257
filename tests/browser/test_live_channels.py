"""A DM arrives on a live channel: the inbox shows it without a reload, the reply goes out
through the (stand-in) Send API, and the echo Meta sends back adds nothing."""
import urllib.request

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crm.channels import replies
from crm.channels.models import OutboundSend
from crm.channels.receiving import signature_of
from crm.conversations.models import Message
from crm.core.timeutil import utcnow
from tests import factories
from tests.channels.helpers import APP_SECRET, dm_event, make_channel, run_worker
from tests.browser.conftest import csp_violations
from tests.channels.standin import graph  # noqa: F401  (the fixture)

PERSON = "1200000000000042"




@pytest.fixture
def held_jobs(monkeypatch):
    """The test plays the worker, so the "sending" step can be seen."""
    from crm.jobs import queue
    monkeypatch.setattr(queue, "send", lambda job_id: None)


def _meta_posts(live_server, channel, payload):
    import json
    body = json.dumps(payload).encode()
    request = urllib.request.Request(
        f"{live_server}/webhooks/meta/{channel.key}", data=body, method="POST",
        headers={"X-Hub-Signature-256": signature_of(APP_SECRET, body),
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


def _sent_messages(db):
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Message))


def test_live_dm_reply_and_echo(page, live_server, sign_in, db, graph, held_jobs):
    manager = factories.UserFactory(role="admin", name="Mia Admin", email="mia@example.com")
    channel = make_channel("instagram", name="Brand Instagram")
    refused = csp_violations(page)
    sign_in(page, manager)
    page.goto(f"{live_server}/inbox")
    page.evaluate("window.__sameDocument = true")
    expect(page.locator("#nav-needs-reply")).to_have_text("0")

    _meta_posts(live_server, channel, dm_event("instagram", PERSON, "m_live_1",
                                               "Hi! Are you open to a collab? 😍", at=utcnow()))
    run_worker(db)
    results = page.locator("#inbox-results")
    expect(results).to_contain_text("open to a collab", timeout=15_000)
    expect(page.locator("#nav-needs-reply")).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True

    page.locator("#inbox-results a", has_text="Instagram user").first.click()
    expect(page.locator(".reply-window")).to_contain_text("Reply window open")
    page.get_by_label("Your reply").fill("Yes! Sending the brief today ✨")
    page.get_by_role("button", name="Send on Instagram").click()
    expect(page.locator(".send-status")).to_contain_text("Sending…")

    send_id = db.session.scalar(select(OutboundSend.id))
    replies.deliver(send_id)
    db.session.commit()
    assert graph.sent[0]["message"]["text"] == "Yes! Sending the brief today ✨"
    assert graph.sent[0]["recipient"] == {"id": PERSON}
    expect(page.locator(".thread")).to_contain_text("Sending the brief today", timeout=15_000)
    expect(page.locator(".send-status")).to_have_count(0)
    assert _sent_messages(db) == 2

    _meta_posts(live_server, channel, dm_event("instagram", PERSON, "m_standin0001",
                                               "Yes! Sending the brief today ✨", at=utcnow(),
                                               echo=True))
    run_worker(db)
    assert _sent_messages(db) == 2
    page.goto(f"{live_server}/admin/channels")
    expect(page.locator(".callback-url")).to_contain_text(f"/webhooks/meta/{channel.key}")
    assert refused == [], "\n".join(refused)
