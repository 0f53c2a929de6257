"""No writes on GET: every GET route of the app, as an admin, a manager and a rep, with real
ids, executes no INSERT, UPDATE or DELETE and commits none.

The routes come from the app's URL map, so a new GET route is checked without being listed
here; a route whose arguments this test cannot fill fails until it is taught them (ARGS).
"""
import re
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from crm.accounts.passwords import create_reset_link
from crm.channels import services as channels
from crm.conversations.models import MessageMedia
from crm.contacts import consent
from crm.conversations import services as conversations
from crm.core.timeutil import utcnow
from crm.extensions import db
from crm.imports.models import ImportRun
from crm.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests import factories
from tests.test_imports_support import (FIXTURES, import_storage,  # noqa: F401 (fixture)
                                        run_id, upload_csv, upload_dm)

WRITE = re.compile(r"^\s*(?:WITH\b.*?\)\s*)?(INSERT|UPDATE|DELETE|REPLACE|UPSERT|MERGE|CREATE|"
                   r"DROP|ALTER|TRUNCATE)\b", re.I | re.S)

# The only writes a GET may make, each with why it must.
ALLOWED = [
    # The session's last use, the clock of the idle limit (SESSION_IDLE_MINUTES): without it a
    # session in use could not be told from an abandoned one. Written at most once a minute
    # per session (crm.accounts.sessions.TOUCH_EVERY), in a short transaction of its own, so
    # a GET's own work is never committed with it. The test signs in just before it runs, so
    # it appears only when a run outlasts that minute.
    (None, re.compile(r"^\s*UPDATE user_sessions SET last_seen_at=", re.I)),
    # The same for an API token's last use, shown on its user's account page (at most once a
    # minute per token, crm.accounts.tokens.TOUCH_EVERY, in a transaction of its own).
    (None, re.compile(r"^\s*UPDATE api_tokens SET last_used_at=", re.I)),
    # The audit trail of the contact list leaving Rapport as CSV: who exported what, recorded
    # as the data goes (a security record, like a sign-in's, not a change to the data).
    ("imports.export_contacts", re.compile(r"^\s*INSERT INTO audit_events\b", re.I)),
    # The same for a person's data export leaving through its signed link (README, Privacy
    # requests): each download is recorded.
    ("privacy.download", re.compile(r"^\s*INSERT INTO audit_events\b", re.I)),
]


class Writes:
    """Write statements and commits of writes seen while `endpoint` is requested."""

    def __init__(self):
        self.endpoint = None
        self.found: list[tuple[str, str]] = []
        self._wrote: set[int] = set()      # connections holding a write not yet committed

    def statement(self, conn, cursor, statement, parameters, context, executemany):
        if self.endpoint is None or not WRITE.match(statement):
            return
        if any((where is None or where == self.endpoint) and pattern.match(statement)
               for where, pattern in ALLOWED):
            return
        self._wrote.add(id(conn))
        self.found.append((self.endpoint, " ".join(statement.split())[:160]))

    def commit(self, conn):
        if self.endpoint is not None and id(conn) in self._wrote:
            self.found.append((self.endpoint, "COMMIT of the writes above"))
        self._wrote.discard(id(conn))

    def rollback(self, conn):
        self._wrote.discard(id(conn))


@pytest.fixture
def writes():
    w = Writes()
    event.listen(Engine, "before_cursor_execute", w.statement)
    event.listen(Engine, "commit", w.commit)
    event.listen(Engine, "rollback", w.rollback)
    yield w
    event.remove(Engine, "before_cursor_execute", w.statement)
    event.remove(Engine, "commit", w.commit)
    event.remove(Engine, "rollback", w.rollback)


def _world(admin, manager, rep, client, auth):
    """One of everything a GET route can name, owned by the rep (so all three roles see it),
    and a contact who opted out, for crafted template links."""
    contact = factories.ContactFactory(name="Maya Chen", owner_id=rep.id, email="maya@x.test")
    factories.HandleFactory(contact=contact, platform="instagram", handle="maya.chen")
    out = factories.ContactFactory(name="Otto Out", owner_id=rep.id)
    consent.change_consent(None, out, status="opted_out", source="DM")
    message = conversations.log_message(rep, contact, platform="instagram", direction="in",
                                        body="Hi! Rates?", sent_at=utcnow() - timedelta(hours=3))
    conversations.log_message(rep, contact, platform="instagram", direction="out",
                              body="Sending them now", sent_at=utcnow() - timedelta(hours=2))
    deal = factories.DealFactory(contact=contact, owner_id=rep.id)
    campaign = factories.CampaignFactory()
    template = factories.DMTemplateFactory(body="Hi {first_name}")
    task = factories.TaskFactory(contact_id=contact.id, assignee_id=rep.id,
                                 due_at=utcnow() - timedelta(days=1))
    factories.TaskFactory(contact_id=contact.id, assignee_id=rep.id, due_at=utcnow())
    done = ImportRun(kind="dm", status="done", filename="old.zip", created_by_id=rep.id,
                     owner_id=rep.id, counts={"threads": 1, "messages_added": 2},
                     options={"touched": [message.conversation_id]}, finished_at=utcnow())
    failed = ImportRun(kind="csv", status="failed", filename="bad.csv", created_by_id=rep.id,
                       problems=["Row 2: no name."], finished_at=utcnow())
    db.session.add_all([done, failed])
    reset = create_reset_link(admin, rep)
    line = channels.add_channel(admin, kind="whatsapp", name="Support line", app_secret="s",
                                verify_token="v", access_token="t", account_id="1001",
                                phone_number_id="2002")
    media = MessageMedia(message_id=message.id, channel_id=line.id, media_id="m-1", kind="image")
    db.session.add(media)
    hook = WebhookEndpoint(url="https://hooks.example.com/in", events=["deal.won"],
                           secret="whsec_test", enabled=False, disabled_reason="Turned off")
    db.session.add(hook)
    db.session.flush()
    db.session.add(WebhookDelivery(endpoint_id=hook.id, event_id="evt_1", event_type="deal.won",
                                   body="{}", status="failed", attempts=1, retry_until=utcnow(),
                                   attempt_rows=[WebhookAttempt(number=1, ok=False,
                                                                response_code=500)]))
    db.session.commit()
    # Reviews waiting for their user: a DM export read, a contacts CSV with its columns guessed.
    auth.login(rep)
    dm_preview = run_id(upload_dm(client, FIXTURES / "instagram"))
    csv_review = run_id(upload_csv(client, "Name,Email\nAna Lima,ana@x.test\n"))
    ids = {"contact_id": contact.id, "conversation_id": message.conversation_id,
           "message_id": message.id, "deal_id": deal.id, "stage_id": deal.stage_id,
           "campaign_id": campaign.id, "task_id": task.id, "template_id": template.id, "token": reset,
           "name": "email", "section": "overdue", "kind": "response-times", "table": "summary",
           "key": "no-such-channel", "filename": "js/errors.js", "file_id": media.id,
           "endpoint_id": hook.id}
    runs = [done.id, failed.id, dm_preview, csv_review]
    extra = [f"/contacts/{out.id}?template_id={template.id}",
             f"/templates/use/{out.id}?template_id={template.id}",
             f"/contacts/{contact.id}?template_id={template.id}",
             "/today/upcoming", "/today/today", "/dashboard/export/trend.csv",
             f"/admin/webhooks/{hook.id}?before={10 ** 6}",
             f"/board?pipeline={deal.pipeline_id}"]
    return ids, runs, extra


def _urls(app, ids, runs):
    urls = []
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            if rule.arguments == {"run_id"}:
                urls += [(rule.endpoint, url_for(rule.endpoint, run_id=r)) for r in runs]
                continue
            missing = rule.arguments - ids.keys()
            assert not missing, f"{rule.rule}: teach this test an id for {sorted(missing)}"
            urls.append((rule.endpoint, url_for(rule.endpoint,
                                                **{a: ids[a] for a in rule.arguments})))
    return urls


def test_no_get_route_writes(app, db, admin, manager, rep, client, auth, writes):
    ids, runs, extra = _world(admin, manager, rep, client, auth)
    urls = _urls(app, ids, runs)
    urls += [(app.url_map.bind("").match(u.split("?")[0])[0], u) for u in extra]
    statuses = {}
    for user in (admin, manager, rep):
        auth.login(user)
        for endpoint, url in urls:
            for headers in ({}, {"HX-Request": "true"}):
                writes.endpoint = endpoint
                try:
                    resp = client.get(url, headers=headers)
                    resp.get_data()    # streamed answers (CSV exports) read to their end
                    resp.close()
                finally:
                    writes.endpoint = None
                statuses[(user.role, url, bool(headers))] = resp.status_code
    assert writes.found == [], "\n".join(f"{e}: {s}" for e, s in writes.found)
    # The routes did run (a test that only met 404s and redirects to sign-in proves nothing).
    ok = [k for k, status in statuses.items() if status == 200]
    assert len(ok) > len(statuses) // 2
    for role in ("admin", "manager", "rep"):
        for url in (f"/contacts/{ids['contact_id']}", "/board", "/today", "/inbox",
                    f"/imports/{runs[2]}", f"/imports/{runs[3]}"):
            assert statuses[(role, url, False)] == 200, (role, url)
    assert statuses[("admin", "/admin/pipelines", False)] == 200


def test_the_detector_sees_a_write(app, db, admin, client, auth, writes):
    """A GET that writes is caught (the test above cannot pass by seeing nothing)."""
    auth.login(admin)
    writes.endpoint = "probe"
    db.session.execute(db.text("UPDATE users SET name = name WHERE id = :i"), {"i": admin.id})
    db.session.commit()
    writes.endpoint = None
    assert [s for _, s in writes.found] == ["UPDATE users SET name = name WHERE id = ?"
                                            if db.engine.dialect.name == "sqlite" else
                                            "UPDATE users SET name = name WHERE id = %(i)s",
                                            "COMMIT of the writes above"]


def test_a_workspace_without_pipelines_gets_none_from_a_get(db, admin, rep, auth, writes):
    """The ready-made pipelines come from the migrations (0025), not from the first visit
    to the board or the pipelines page; a database without them shows how to get one."""
    from crm.pipeline.models import Pipeline

    client = auth.login(admin)
    for url, endpoint in (("/board", "pipeline.board"),
                          ("/admin/pipelines", "pipeline.admin_pipelines")):
        writes.endpoint = endpoint
        html = client.get(url).get_data(as_text=True)
        writes.endpoint = None
        assert "No pipeline yet" in html, url
    assert "Create one" in client.get("/board").get_data(as_text=True)
    assert "Ask an admin" in auth.login(rep).get("/board").get_data(as_text=True)
    assert writes.found == [] and db.session.query(Pipeline).count() == 0
