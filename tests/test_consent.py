"""Consent: the one gate, the append-only history, the one-click change."""
import pytest

from crm.audit.models import AuditEvent
from crm.contacts.consent import change_consent, may_contact, require_may_contact
from crm.contacts.models import AppendOnlyError, ConsentEvent
from crm.core.errors import OutreachRefused
from crm.core.timeutil import utcnow
from tests.factories import ContactFactory


def test_may_contact_gives_reasons(db, rep):
    c = ContactFactory(name="Olive Out")
    assert may_contact(c).allowed
    change_consent(rep, c, status="opted_out", source="Replied STOP in DM")
    verdict = may_contact(c)
    assert not verdict.allowed
    assert "Olive Out opted out on" in verdict.reason
    assert f"{utcnow():%d %b %Y}" in verdict.reason
    change_consent(rep, c, status="opted_in", do_not_contact=True)
    assert "do-not-contact" in may_contact(c).reason
    with pytest.raises(OutreachRefused) as e:
        require_may_contact(c, action="DM")
    assert "do-not-contact" in e.value.message and e.value.contact_id == c.id


def test_one_click_consent_records_event(auth, rep, db, hx):
    c = ContactFactory(owner_id=rep.id)
    resp = auth.login(rep).post(f"/contacts/{c.id}/consent",
                                data={"status": "opted_out", "source": "replied STOP in DM",
                                      "note": "via IG"}, headers=hx)
    assert resp.status_code == 200 and b"<html" not in resp.data
    # Opted out, they may not be contacted: the whole page shows it at once, loaded again.
    assert resp.headers["HX-Refresh"] == "true"
    page = auth.client.get(f"/contacts/{c.id}").get_data(as_text=True)
    assert "replied STOP in DM" in page and "Consent updated." in page
    assert "No outreach." in page
    ev = db.session.query(ConsentEvent).one()
    assert (ev.from_status, ev.to_status, ev.actor_id, ev.source, ev.note) == (
        "unknown", "opted_out", rep.id, "replied STOP in DM", "via IG")
    db.session.refresh(c)
    assert c.consent_status == "opted_out" and c.consent_changed_at is not None
    assert db.session.query(AuditEvent).filter_by(action="consent").count() == 1


def test_the_consent_answer_reads_only_its_section(auth, rep, db, hx, count_queries):
    """The HTMX answer is the consent section: it reads no conversation, task or deal."""
    c = ContactFactory(owner_id=rep.id)
    client = auth.login(rep)
    with count_queries() as q:
        resp = client.post(f"/contacts/{c.id}/consent", data={"status": "opted_in"},
                           headers=hx)
    assert resp.status_code == 200 and b"Opted in" in resp.data
    read = " ".join(q.statements)
    for table in ("FROM conversations", "FROM tasks", "FROM deals", "FROM notes"):
        assert table not in read, table


def test_consent_without_js_redirects(auth, rep, db):
    c = ContactFactory(owner_id=rep.id)
    resp = auth.login(rep).post(f"/contacts/{c.id}/consent",
                                data={"status": "opted_in", "do_not_contact": "y"})
    assert resp.status_code == 302
    db.session.refresh(c)
    assert c.consent_status == "opted_in" and c.do_not_contact is True


def test_bad_consent_value_changes_nothing(auth, rep, db, hx):
    c = ContactFactory(owner_id=rep.id)
    resp = auth.login(rep).post(f"/contacts/{c.id}/consent", data={"status": "whatever"},
                                headers=hx)
    assert b"Not a valid choice" in resp.data
    assert db.session.query(ConsentEvent).count() == 0


def test_same_state_records_nothing(db, rep):
    c = ContactFactory()
    assert change_consent(rep, c, status="unknown") is None
    assert db.session.query(ConsentEvent).count() == 0


def test_history_is_append_only(db, rep):
    c = ContactFactory()
    ev = change_consent(rep, c, status="opted_out", source="x")
    db.session.commit()
    ev.source = "rewritten"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(ConsentEvent, ev.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(ConsentEvent, ev.id).source == "x"


def test_no_route_edits_or_deletes_history(app):
    # The routes that write append a change (the page's and the API's); the others only
    # show its form or read the history.
    rules = {r.rule: r.methods - {"HEAD", "OPTIONS"} for r in app.url_map.iter_rules()
             if "consent" in r.rule}
    assert rules == {"/contacts/<int:contact_id>/consent": {"POST"},
                     "/contacts/<int:contact_id>/consent/form": {"GET"},
                     "/api/v1/contacts/<int:contact_id>/consent": {"POST"},
                     "/api/v1/contacts/<int:contact_id>/consent-events": {"GET"}}


def test_the_consent_form_with_a_note_is_fetched_when_opened(auth, rep, other_rep, db, hx):
    mine = ContactFactory(owner_id=rep.id, consent_status="opted_in")
    theirs = ContactFactory(owner_id=other_rep.id)
    client = auth.login(rep)
    page = client.get(f"/contacts/{mine.id}").get_data(as_text=True)
    assert 'id="consent-source"' not in page
    assert f'hx-get="/contacts/{mine.id}/consent/form"' in page
    form = client.get(f"/contacts/{mine.id}/consent/form", headers=hx).get_data(as_text=True)
    assert "<html" not in form and 'id="consent-source"' in form
    assert '<option selected value="opted_in">' in form
    assert client.get(f"/contacts/{theirs.id}/consent/form", headers=hx).status_code == 404
    resp = client.get(f"/contacts/{mine.id}/consent/form")
    assert resp.headers["Location"].endswith(f"/contacts/{mine.id}?change=consent#consent")
    page = client.get(f"/contacts/{mine.id}?change=consent").get_data(as_text=True)
    assert '<details class="consent-detail" id="consent-detail" open>' in page
    assert 'id="consent-source"' in page


def test_opt_out_cancels_open_outreach_tasks(db, rep):
    from crm.tasks.models import Task
    c = ContactFactory(owner_id=rep.id)
    outreach = Task(title="Follow up", due_at=utcnow(), contact_id=c.id, assignee_id=rep.id,
                    is_outreach=True)
    admin_task = Task(title="Send contract copy", due_at=utcnow(), contact_id=c.id,
                      assignee_id=rep.id)
    db.session.add_all([outreach, admin_task])
    db.session.flush()
    change_consent(rep, c, status="opted_out", source="Replied STOP")
    assert outreach.status == "cancelled" and "opted out" in outreach.cancel_note
    assert admin_task.status == "open"


def test_opting_in_someone_who_opted_out_needs_their_word(auth, rep, db, hx):
    c = ContactFactory(name="Stella Stop", owner_id=rep.id, consent_status="opted_out")
    client = auth.login(rep)
    page = client.get(f"/contacts/{c.id}").get_data(as_text=True)
    assert "Opt in again…" in page
    assert 'name="status" value="opted_in"' not in page     # no one-click opt-in
    # The old one-click form, without JavaScript and with it: refused, nothing changed.
    one_click = {"status": "opted_in", "source": "Set on the contact page"}
    for headers in ({}, hx):
        resp = client.post(f"/contacts/{c.id}/consent", data=one_click, headers=headers,
                           follow_redirects=True)
        assert "asked to hear from you again" in resp.get_data(as_text=True)
    resp = client.post(f"/contacts/{c.id}/consent", data={"status": "opted_in", "confirm": "y"},
                       headers=hx)
    assert "Say what they said, where and when" in resp.get_data(as_text=True)
    db.session.refresh(c)
    assert c.consent_status == "opted_out" and db.session.query(ConsentEvent).count() == 0
    # The form, opened on "Opted in" with the confirmation.
    form = client.get(f"/contacts/{c.id}/consent/form?to=opted_in",
                      headers={**hx, "HX-Target": "consent-detail"}).get_data(as_text=True)
    assert "<details" in form and " open>" in form and "<html" not in form
    assert '<option selected value="opted_in">' in form and 'name="confirm"' in form
    resp = client.post(f"/contacts/{c.id}/consent", headers=hx, data={
        "status": "opted_in", "source": "Replied YES to our Instagram DM, 3 Dec",
        "confirm": "y"})
    assert resp.headers["HX-Refresh"] == "true"
    ev = db.session.query(ConsentEvent).one()
    assert (ev.from_status, ev.to_status, ev.source) == (
        "opted_out", "opted_in", "Replied YES to our Instagram DM, 3 Dec")


def test_opting_in_again_is_refused_on_another_users_contact(auth, rep, other_rep, db):
    c = ContactFactory(owner_id=other_rep.id, consent_status="opted_out")
    resp = auth.login(rep).post(f"/contacts/{c.id}/consent", data={
        "status": "opted_in", "source": "said yes", "confirm": "y"})
    assert resp.status_code == 404
    db.session.refresh(c)
    assert c.consent_status == "opted_out"
