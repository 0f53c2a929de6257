"""Changing one's password, admins' one-time reset links; both end the user's other sessions."""
from datetime import timedelta


from crm.accounts.models import PasswordReset, UserSession
from crm.audit.models import AuditEvent
from crm.core.timeutil import utcnow
from tests import factories

NEW = "a brand new passphrase"


def fresh_get(client, path="/contacts"):
    return client.get(path)


def sign_in(client, user, password=factories.PASSWORD):
    return client.post("/login", data={"email": user.email, "password": password})


def change(client, current=factories.PASSWORD, new=NEW, confirm=NEW, **headers):
    return client.post("/account/password", data={
        "pw-current_password": current, "pw-new_password": new, "pw-confirm": confirm},
        headers=headers)


def test_the_security_page_shows_password_two_factor_and_sessions(auth, rep):
    page = auth.login(rep).get("/account").get_data(as_text=True)
    assert "Change password" in page and "Two-factor sign-in" in page
    assert "This browser" in page


def test_changing_the_password_ends_the_other_sessions(app, db, rep):
    db.session.commit()
    here, elsewhere = app.test_client(), app.test_client()
    sign_in(elsewhere, rep)
    sign_in(here, rep)
    resp = change(here)
    assert resp.status_code == 302
    assert fresh_get(here).status_code == 200
    assert fresh_get(elsewhere).status_code == 302
    here.post("/logout")
    assert sign_in(here, rep).status_code == 200           # the old password is refused
    assert sign_in(here, rep, NEW).status_code == 302
    actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert "password_changed" in actions and "sessions_ended" in actions


def test_changing_the_password_needs_the_current_one(auth, rep, db):
    client = auth.login(rep)
    before = rep.password_hash
    resp = change(client, current="not it")
    assert resp.status_code == 200
    assert b"That is not your current password." in resp.data
    db.session.expire_all()
    assert rep.password_hash == before


def test_bad_new_passwords_are_named(auth, rep):
    client = auth.login(rep)
    assert b"at least 10 characters" in change(client, new="short", confirm="short").data
    assert b"not the same" in change(client, confirm="something else").data
    assert b"This field is required." in change(client, current="").data


def test_an_admin_reset_link_works_once_and_ends_every_session(app, auth, admin, rep, db):
    db.session.commit()
    victim = app.test_client()
    sign_in(victim, rep)
    resp = auth.login(admin).post(f"/admin/users/{rep.id}/reset-link")
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    assert "no mail server is set up" in page
    link = page.split('id="reset-link" type="text" readonly value="')[1].split('"')[0]
    path = link.split("localhost", 1)[-1]
    assert path.startswith("/reset/")
    assert db.session.query(PasswordReset).one().token_hash not in link   # stored hashed

    anonymous = app.test_client()
    assert anonymous.get(path).status_code == 200
    resp = anonymous.post(path, data={"new_password": NEW, "confirm": "different"})
    assert b"not the same" in resp.data
    resp = anonymous.post(path, data={"new_password": NEW, "confirm": NEW})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert fresh_get(victim).status_code == 302              # signed out everywhere
    assert anonymous.get(path).status_code == 404             # works once
    assert sign_in(anonymous, rep, NEW).status_code == 302
    actions = [e.action for e in db.session.query(AuditEvent)]
    assert {"password_reset_link", "password_reset", "sessions_ended"} <= set(actions)


def test_a_reset_link_expires_and_a_newer_one_replaces_it(app, auth, admin, rep, db):
    client = auth.login(admin)

    def new_link():
        page = client.post(f"/admin/users/{rep.id}/reset-link").get_data(as_text=True)
        return page.split('readonly value="')[1].split('"')[0].split("localhost", 1)[-1]

    first, second = new_link(), new_link()
    anonymous = app.test_client()
    assert anonymous.get(first).status_code == 404
    assert anonymous.get(second).status_code == 200
    for reset in db.session.query(PasswordReset):
        reset.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    resp = anonymous.post(second, data={"new_password": NEW, "confirm": NEW})
    assert resp.status_code == 404 and b"no longer works" in resp.data
    db.session.expire_all()
    assert rep.check_password(factories.PASSWORD)


def test_only_admins_make_reset_links(auth, manager, rep, db):
    assert auth.login(manager).post(f"/admin/users/{rep.id}/reset-link").status_code == 404
    assert db.session.query(PasswordReset).count() == 0


def test_a_reset_link_is_emailed_when_smtp_is_configured(app, auth, admin, rep, db,
                                                         monkeypatch):
    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout):
            sent.append(("connect", host, port))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self):
            sent.append(("starttls",))

        def send_message(self, message):
            sent.append(("send", message["To"], message.get_content()))

    monkeypatch.setattr("crm.accounts.mail.smtplib.SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example.com")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://crm.example.com")
    page = auth.login(admin).post(f"/admin/users/{rep.id}/reset-link").get_data(as_text=True)
    assert "It was emailed to" in page
    assert sent[0] == ("connect", "mail.example.com", 587) and sent[1] == ("starttls",)
    assert sent[2][1] == rep.email and "/reset/" in sent[2][2]


def test_admin_signs_a_user_out_everywhere(app, auth, admin, rep, db):
    db.session.commit()
    victim = app.test_client()
    sign_in(victim, rep)
    auth.login(admin).post(f"/admin/users/{rep.id}/sessions/end")
    assert fresh_get(victim).status_code == 302
    assert db.session.query(UserSession).filter_by(user_id=rep.id, ended_at=None).count() == 0


def test_ending_another_session_from_the_security_page(app, db, rep, other_rep):
    db.session.commit()
    here, there = app.test_client(), app.test_client()
    sign_in(there, rep)
    sign_in(here, rep)
    theirs = db.session.query(UserSession).filter_by(user_id=rep.id).order_by(
        UserSession.id).first()
    assert here.post(f"/account/sessions/{theirs.id}/end").status_code == 302
    assert fresh_get(there).status_code == 302
    assert fresh_get(here).status_code == 200
    # Someone else's session is not yours to end.
    elsewhere = app.test_client()
    sign_in(elsewhere, other_rep)
    other = db.session.query(UserSession).filter_by(user_id=other_rep.id).one()
    assert here.post(f"/account/sessions/{other.id}/end").status_code == 404
    assert fresh_get(elsewhere).status_code == 200


def test_an_emailed_reset_link_uses_public_url_not_the_request_host(app, auth, admin, rep, db,
                                                                   monkeypatch):
    sent = []
    monkeypatch.setattr("crm.accounts.mail.send_reset_link",
                        lambda user, link, hours: sent.append(link) or True)
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example.com")
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://crm.example.com/")
    client = auth.login(admin)
    page = client.post(f"/admin/users/{rep.id}/reset-link").get_data(as_text=True)
    assert "It was emailed to" in page                      # the request's host is localhost
    assert len(sent) == 1 and sent[0].startswith("https://crm.example.com/reset/")
    assert 'readonly value="https://crm.example.com/reset/' in page


def test_without_public_url_a_reset_link_is_not_emailed_but_still_shown(app, auth, admin, rep,
                                                                       db, monkeypatch):
    sent = []
    monkeypatch.setattr("crm.accounts.mail.send_reset_link",
                        lambda user, link, hours: sent.append(link) or True)
    monkeypatch.setitem(app.config, "SMTP_HOST", "mail.example.com")
    monkeypatch.setitem(app.config, "PUBLIC_URL", None)
    page = auth.login(admin).post(f"/admin/users/{rep.id}/reset-link").get_data(as_text=True)
    assert sent == []
    assert "Not emailed: PUBLIC_URL is not set" in page
    assert 'readonly value="http://localhost/reset/' in page
