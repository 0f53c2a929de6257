"""Two-factor sign-in: enrolment with a QR code, codes at sign-in (each once), recovery codes,
the admin's requirement for admins and managers, and turning it off."""
import time

import pyotp

from crm.accounts import two_factor
from crm.accounts.models import RecoveryCode
from crm.audit.models import AuditEvent
from crm.settings import services as settings
from tests import factories
from tests.test_signin_throttle import limited_app


def code_for(user, steps_ahead=0):
    totp = pyotp.TOTP(user.totp_secret)
    return totp.at(time.time() + steps_ahead * totp.interval)


def enrol(db, user):
    """Two-factor on for `user` without the pages; returns the recovery codes."""
    two_factor.start_enrolment(user)
    codes = two_factor.confirm_enrolment(user, code_for(user))
    db.session.commit()
    return codes


def password_step(client, user):
    return client.post("/login", data={"email": user.email, "password": factories.PASSWORD})


def code_step(client, code):
    return client.post("/login/code", data={"code": code})


def signed_in(client):
    return client.get("/contacts").status_code == 200


def test_turning_it_on_from_the_security_page(auth, rep, db):
    client = auth.login(rep)
    assert b"Turn on two-factor sign-in" in client.get("/account").data
    resp = client.post("/account/two-factor/start")
    assert resp.headers["Location"] == "/account/two-factor"
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert 'src="/account/two-factor/qr.svg"' in page
    assert two_factor.grouped_secret(rep) in page
    qr = client.get("/account/two-factor/qr.svg")
    assert qr.mimetype == "image/svg+xml" and qr.data.lstrip().startswith(b"<?xml")
    assert qr.headers["Cache-Control"] == "no-store"

    resp = client.post("/account/two-factor", data={"code": "000000"})
    assert b"That code is not right" in resp.data
    db.session.expire_all()
    assert not rep.two_factor_on

    resp = client.post("/account/two-factor", data={"code": code_for(rep)})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Two-factor sign-in is on" in page
    codes = page.split('<ul class="recovery-codes" id="recovery-codes">')[1].split("</ul>")[0]
    codes = [c.split("</code>")[0] for c in codes.split("<code>")[1:]]
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.expire_all()
    assert rep.two_factor_on
    stored = [r.code_hash for r in db.session.query(RecoveryCode).filter_by(user_id=rep.id)]
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert db.session.query(AuditEvent).filter_by(action="two_factor_on").count() == 1


def test_sign_in_asks_for_a_code_and_takes_each_once(app, db, rep):
    enrol(db, rep)
    client = app.test_client()
    resp = password_step(client, rep)
    assert resp.status_code == 302 and resp.headers["Location"] == "/login/code"
    assert not signed_in(client)
    assert b"Enter your code" in client.get("/login/code").data

    resp = code_step(client, "123456")
    assert resp.status_code == 200 and b"That code is not right" in resp.data
    assert not signed_in(client)
    code = code_for(rep, steps_ahead=1)
    assert code_step(client, code).status_code == 302
    assert signed_in(client)

    client.post("/logout")
    password_step(client, rep)
    assert code_step(client, code).status_code == 200      # the same code a second time
    assert not signed_in(client)
    failed = db.session.query(AuditEvent).filter_by(action="sign_in_failed").all()
    assert len(failed) == 2 and all(e.changes["step"] == "code" for e in failed)


def test_a_recovery_code_signs_in_once(app, db, rep):
    codes = enrol(db, rep)
    client = app.test_client()
    password_step(client, rep)
    assert code_step(client, codes[3].upper()).status_code == 302
    assert signed_in(client)
    client.post("/logout")
    password_step(client, rep)
    assert code_step(client, codes[3]).status_code == 200
    assert two_factor.recovery_codes_left(rep) == 9
    assert db.session.query(AuditEvent).filter_by(action="recovery_code_used").count() == 1


def test_the_code_step_cannot_be_reached_without_the_password(client, db, rep):
    enrol(db, rep)
    resp = client.post("/login/code", data={"code": code_for(rep, 1)})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert not signed_in(client)


def test_a_half_finished_sign_in_expires(client, db, rep):
    enrol(db, rep)
    password_step(client, rep)
    with client.session_transaction() as s:
        s["signin"] = {**s["signin"], "at": time.time() - 3600}
    resp = code_step(client, code_for(rep, 1))
    assert resp.headers["Location"] == "/login"
    assert not signed_in(client)


def test_wrong_codes_count_towards_the_account_lock(app, db, rep):
    enrol(db, rep)
    limited = limited_app(app, LOGIN_ACCOUNT_LIMIT="2 per 15 minutes",
                          LOGIN_RATE_LIMIT="100 per minute")
    client = limited.test_client()
    with limited.app_context():
        client.post("/login", data={"email": rep.email, "password": factories.PASSWORD})
        codes = [client.post("/login/code", data={"code": "000000"}).status_code
                 for _ in range(3)]
    assert codes == [200, 200, 429]


def test_a_known_password_does_not_reset_the_count_of_guessed_codes(app, db, rep):
    enrol(db, rep)
    limited = limited_app(app, LOGIN_ACCOUNT_LIMIT="3 per 15 minutes",
                          LOGIN_RATE_LIMIT="100 per minute")
    client = limited.test_client()
    login = {"email": rep.email, "password": factories.PASSWORD}
    with limited.app_context():
        codes = []
        for _ in range(2):
            assert client.post("/login", data=login).status_code == 302
            codes += [client.post("/login/code", data={"code": "000000"}).status_code
                      for _ in range(2)]
        assert codes == [200, 200, 200, 429]
        assert client.post("/login", data=login).status_code == 429


def test_an_admin_can_require_it_for_admins_and_managers(app, auth, admin, manager, rep, db):
    db.session.commit()
    already = app.test_client()
    password_step(already, manager)
    rep_browser = app.test_client()
    password_step(rep_browser, rep)
    client = auth.login(admin)
    resp = client.post("/admin/settings", data={
        "response_target_hours": 24, "duplicate_window_days": 7, "stop_phrases": "stop",
        "require_two_factor": "y"})
    assert resp.status_code == 302
    assert settings.get("require_two_factor") is True
    assert db.session.query(AuditEvent).filter_by(action="two_factor_required").count() == 1
    # The manager signed in without it is signed out to set it up; the rep is not.
    assert not signed_in(already)
    assert signed_in(rep_browser)
    assert client.get("/admin/settings").status_code == 200    # the admin who chose it stays

    # A rep is not asked.
    other = app.test_client()
    assert password_step(other, rep).headers["Location"] == "/"

    # A manager without it sets it up before going anywhere.
    browser = app.test_client()
    resp = password_step(browser, manager)
    assert resp.headers["Location"] == "/login/two-factor"
    assert not signed_in(browser)
    page = browser.get("/login/two-factor").get_data(as_text=True)
    assert "Your workspace asks admins and managers" in page
    assert browser.get("/login/two-factor/qr.svg").mimetype == "image/svg+xml"
    db.session.expire_all()
    resp = browser.post("/login/two-factor", data={"code": code_for(manager)})
    assert resp.status_code == 200 and b"Two-factor sign-in is on" in resp.data
    assert signed_in(browser)
    db.session.expire_all()
    assert manager.two_factor_on
    # …and cannot turn it off while it is required.
    resp = browser.post("/account/two-factor/off", data={"off-password": factories.PASSWORD})
    db.session.expire_all()
    assert manager.two_factor_on


def test_turning_it_off_needs_the_password(auth, rep, db):
    enrol(db, rep)
    client = auth.login(rep)
    resp = client.post("/account/two-factor/off", data={"off-password": "wrong"})
    assert b"That is not your password." in resp.data
    db.session.expire_all()
    assert rep.two_factor_on
    resp = client.post("/account/two-factor/off", data={"off-password": factories.PASSWORD})
    assert resp.status_code == 302
    db.session.expire_all()
    assert not rep.two_factor_on and rep.totp_secret is None
    assert db.session.query(RecoveryCode).count() == 0
    assert db.session.query(AuditEvent).filter_by(action="two_factor_off").count() == 1


def test_new_recovery_codes_replace_the_old(auth, rep, db):
    old = enrol(db, rep)
    page = auth.login(rep).post("/account/two-factor/recovery-codes").get_data(as_text=True)
    assert "New recovery codes" in page and old[0] not in page
    assert not two_factor.use_recovery_code(rep, old[0])


def test_an_admin_turns_it_off_for_someone_who_lost_their_phone(auth, admin, rep, db):
    enrol(db, rep)
    auth.login(admin).post(f"/admin/users/{rep.id}/two-factor/off")
    db.session.expire_all()
    assert not rep.two_factor_on
    event = db.session.query(AuditEvent).filter_by(action="two_factor_off").one()
    assert event.actor_id == admin.id and event.entity_id == rep.id


def test_the_key_is_stored_encrypted(app, db, rep):
    from sqlalchemy import text

    from crm.core import secrets
    enrol(db, rep)
    stored = db.session.scalar(text("SELECT totp_key FROM users WHERE id = :id"),
                               {"id": rep.id})
    assert stored != rep.totp_secret and rep.totp_secret not in stored
    assert secrets.decrypt(stored) == rep.totp_secret
    db.session.expire_all()
    assert pyotp.TOTP(rep.totp_secret).now() == code_for(rep)        # read back decrypted


def test_without_the_key_turning_it_on_is_refused_clearly(auth, rep, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "CHANNELS_ENCRYPTION_KEY", None)
    client = auth.login(rep)
    resp = client.post("/account/two-factor/start")
    assert resp.status_code == 302 and resp.headers["Location"] == "/account"
    assert b"CHANNELS_ENCRYPTION_KEY is not set" in client.get("/account").data
    db.session.expire_all()
    assert rep.totp_secret is None
