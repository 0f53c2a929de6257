"""Signing in and out, sessions, rate limiting, CSRF and redirects."""
import pytest

from config import TestConfig
from crm import create_app
from crm.accounts import services as accounts
from tests import factories


def test_anonymous_is_sent_to_login(client):
    resp = client.get("/contacts")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("/login?next=")


def test_sign_in_and_out(client, rep):
    resp = client.post("/login", data={"email": "REP@example.com ", "password": factories.PASSWORD})
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    assert client.get("/contacts").status_code == 200
    assert client.get("/logout").status_code == 405  # signing out is a POST
    resp = client.post("/logout")
    assert resp.status_code == 302
    assert client.get("/contacts").status_code == 302


def test_wrong_password_is_refused(client, rep, db):
    resp = client.post("/login", data={"email": rep.email, "password": "nope"})
    assert resp.status_code == 200
    assert b"Email or password is not right" in resp.data
    assert client.get("/contacts").status_code == 302


def test_blank_login_names_fields(client):
    resp = client.post("/login", data={"email": "", "password": ""})
    assert resp.status_code == 200
    assert resp.data.count(b"This field is required.") == 2


def test_password_is_hashed(rep):
    assert factories.PASSWORD not in rep.password_hash
    assert rep.check_password(factories.PASSWORD)


@pytest.mark.parametrize("target,expected", [
    ("/contacts", "/contacts"),
    ("https://evil.example/phish", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_only_to_this_site(client, rep, target, expected):
    resp = client.post(f"/login?next={target}",
                       data={"email": rep.email, "password": factories.PASSWORD})
    assert resp.headers["Location"] == expected


def test_deactivated_user_session_stops(auth, admin, rep, db):
    client = auth.login(rep)
    assert client.get("/contacts").status_code == 200
    accounts.set_active(admin, rep, False)
    db.session.commit()
    assert client.get("/contacts").status_code == 302
    resp = client.post("/login", data={"email": rep.email, "password": factories.PASSWORD})
    assert b"deactivated" in resp.data


class LimitedConfig(TestConfig):
    RATELIMIT_ENABLED = True
    LOGIN_RATE_LIMIT = "3 per minute"


def test_login_is_rate_limited(app, db, rep):
    db.session.commit()
    limited = create_app(type("C", (LimitedConfig,), {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}))
    client = limited.test_client()
    with limited.app_context():
        codes = [client.post("/login", data={"email": rep.email, "password": "bad"}).status_code
                 for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    resp = client.post("/login", data={"email": rep.email, "password": factories.PASSWORD})
    assert resp.status_code == 429 and b"Too many" in resp.data


class CsrfConfig(TestConfig):
    WTF_CSRF_ENABLED = True


def test_post_without_csrf_is_refused(app, db, rep):
    from crm.contacts.models import Contact

    csrf_app = create_app(type("C", (CsrfConfig,), {
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]}))
    client = csrf_app.test_client()
    from crm.accounts import sessions
    secret = sessions.start(rep)
    db.session.commit()
    with client.session_transaction() as s:
        s["_user_id"] = secret
    with csrf_app.app_context():
        resp = client.post("/contacts/new", data={"kind": "contact", "name": "Sneaky"})
        assert resp.status_code == 400
        resp = client.post("/contacts/new", data={"kind": "contact", "name": "Sneaky"},
                           headers={"HX-Request": "true"})
        assert resp.status_code == 400
        # A real page hands out the token; the HTMX header carries it.
        page = client.get("/contacts/new").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        resp = client.post("/contacts/new", data={"kind": "contact", "name": "Honest"},
                           headers={"X-CSRFToken": token})
        assert resp.status_code == 302
    assert db.session.query(Contact).filter_by(name="Sneaky").count() == 0
    assert db.session.query(Contact).filter_by(name="Honest").count() == 1
