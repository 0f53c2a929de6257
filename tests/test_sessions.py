"""Sessions live on the server: signing out ends them for every copy of the cookie, signing in
starts afresh, idle and old sessions end, and the remember-me cookie is kept tight."""
import os
import subprocess
import sys
from datetime import timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from pathlib import Path


from crm.accounts.models import UserSession
from crm.audit.models import AuditEvent
from crm.core.timeutil import utcnow
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def sign_in(client, user, remember=False):
    data = {"email": user.email, "password": factories.PASSWORD}
    if remember:
        data["remember"] = "y"
    resp = client.post("/login", data=data)
    assert resp.status_code == 302, resp.status_code
    return resp


def fresh_get(client, path="/contacts"):
    """A request that loads its user anew (each request has its own app context)."""
    return client.get(path)


def copy_cookies(source, target):
    for name in ("session", "remember_token"):
        cookie = source.get_cookie(name)
        if cookie is not None:
            target.set_cookie(name, cookie.value)


def test_a_copied_cookie_stops_working_after_sign_out(app, db, rep):
    db.session.commit()
    browser, thief = app.test_client(), app.test_client()
    sign_in(browser, rep)
    copy_cookies(browser, thief)
    assert fresh_get(thief).status_code == 200
    browser.post("/logout")
    assert fresh_get(thief).status_code == 302
    assert fresh_get(browser).status_code == 302
    row = db.session.query(UserSession).one()
    assert row.ended_reason == "signed out"
    assert db.session.query(AuditEvent).filter_by(action="sign_out").count() == 1


def test_a_copied_remember_me_cookie_stops_working_after_sign_out(app, db, rep):
    db.session.commit()
    browser, thief = app.test_client(), app.test_client()
    sign_in(browser, rep, remember=True)
    stolen = browser.get_cookie("remember_token").value
    thief.set_cookie("remember_token", stolen)
    assert fresh_get(thief).status_code == 200      # the remember-me cookie alone signs in
    browser.post("/logout")
    assert browser.get_cookie("remember_token") is None     # and the browser forgets it
    other = app.test_client()
    other.set_cookie("remember_token", stolen)
    assert fresh_get(other).status_code == 302


def test_signing_in_starts_a_fresh_session(client, db, rep):
    db.session.commit()
    with client.session_transaction() as s:
        s["planted"] = "before sign-in"
    sign_in(client, rep)
    with client.session_transaction() as s:
        assert "planted" not in s
        first = s["_user_id"]
    client.post("/logout")
    sign_in(client, rep)
    with client.session_transaction() as s:
        assert s["_user_id"] != first


def _ended_events(db):
    db.session.expire_all()
    return [(e.actor_id, e.entity_id, e.changes["reason"]) for e in
            db.session.query(AuditEvent).filter_by(action="sessions_ended").order_by(AuditEvent.id)]


def test_an_idle_session_ends_and_is_audited_once(app, client, db, rep):
    db.session.commit()
    sign_in(client, rep)
    row = db.session.query(UserSession).one()
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    db.session.commit()
    assert fresh_get(client).status_code == 302
    assert fresh_get(client).status_code == 302              # the same cookie again
    db.session.expire_all()
    assert db.session.get(UserSession, row.id).ended_reason == "idle"
    assert _ended_events(db) == [(None, rep.id, "idle")]     # audited once
    event = db.session.query(AuditEvent).filter_by(action="sessions_ended").one()
    assert event.summary == f"A session of {rep.email} ended (idle when next used)"


def test_use_keeps_a_session_alive(app, client, db, rep):
    db.session.commit()
    sign_in(client, rep)
    row = db.session.query(UserSession).one()
    row.last_seen_at = utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 5)
    db.session.commit()
    assert fresh_get(client).status_code == 200
    db.session.expire_all()
    assert utcnow() - db.session.get(UserSession, row.id).last_seen_at < timedelta(minutes=1)


def test_a_session_ends_at_its_absolute_lifetime(app, client, db, rep):
    db.session.commit()
    sign_in(client, rep)
    row = db.session.query(UserSession).one()
    assert row.expires_at - row.created_at == timedelta(
        hours=app.config["SESSION_LIFETIME_HOURS"])
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert fresh_get(client).status_code == 302


def test_a_remembered_session_outlasts_idleness_but_not_its_days(app, client, db, rep):
    db.session.commit()
    sign_in(client, rep, remember=True)
    row = db.session.query(UserSession).one()
    assert row.remember and row.expires_at - row.created_at == timedelta(
        days=app.config["REMEMBER_DAYS"])
    row.last_seen_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert fresh_get(client).status_code == 200
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert fresh_get(client).status_code == 302


def test_the_remember_me_cookie_is_httponly_lax_and_at_most_30_days(client, db, rep):
    db.session.commit()
    resp = sign_in(client, rep, remember=True)
    header = next(h for h in resp.headers.getlist("Set-Cookie")
                  if h.startswith("remember_token="))
    attributes = header.lower()
    assert "httponly" in attributes and "samesite=lax" in attributes
    cookie = SimpleCookie(header)["remember_token"]
    expires = parsedate_to_datetime(cookie["expires"]).replace(tzinfo=None)
    assert expires - utcnow() <= timedelta(days=30, minutes=1)


def test_cookie_settings_follow_the_environment():
    env = {**os.environ, "SESSION_COOKIE_SECURE": "1", "REMEMBER_DAYS": "90",
           "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", "import config; c = config.Config; print(c.REMEMBER_COOKIE_SECURE,"
         " c.REMEMBER_COOKIE_DURATION.days, c.REMEMBER_COOKIE_SAMESITE,"
         " c.REMEMBER_COOKIE_HTTPONLY)"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT).stdout.split()
    assert out == ["True", "30", "Lax", "True"]


def test_no_remember_box_when_remembering_is_off(app, client, db, rep):
    app.config["REMEMBER_DAYS"] = 0
    try:
        assert b"Keep me signed in" not in client.get("/login").data
        db.session.commit()
        client.post("/login", data={"email": rep.email, "password": factories.PASSWORD,
                                    "remember": "y"})
        assert client.get_cookie("remember_token") is None
    finally:
        app.config["REMEMBER_DAYS"] = 14


def test_deactivating_ends_every_session(auth, admin, rep, db):
    from crm.accounts import services as accounts

    client = auth.login(rep)
    accounts.set_active(admin, rep, False)
    db.session.commit()
    assert db.session.query(UserSession).filter(UserSession.ended_at.is_(None)).count() == 0
    assert fresh_get(client).status_code == 302
    ended = db.session.query(AuditEvent).filter_by(action="sessions_ended").one()
    assert ended.actor_id == admin.id and ended.entity_id == rep.id


def test_a_session_past_its_lifetime_is_audited_as_ended_even_on_an_error_page(app, client,
                                                                              db, rep):
    db.session.commit()
    sign_in(client, rep)
    row = db.session.query(UserSession).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/no-such-page").status_code == 404      # error answers roll back
    assert _ended_events(db) == [(None, rep.id, "expired")]
    assert db.session.get(UserSession, row.id).ended_reason == "expired"
