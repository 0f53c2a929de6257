"""Personal API tokens: made on the account page (shown once, stored hashed) or by the CLI,
revoked, expired, stopped by deactivation and by a new password; the bearer token is the only
way in (no session cookie), CSRF does not apply, and each token is rate-limited."""
import hashlib
import json
from datetime import timedelta

from sqlalchemy import select

from config import TestConfig
from crm import create_app
from crm.accounts import passwords, services as accounts, tokens
from crm.accounts.models import ApiToken
from crm.audit.models import AuditEvent
from crm.core.timeutil import utcnow
from crm.extensions import db
from tests import factories
from tests.api.conftest import bearer, make_token


def test_account_page_makes_a_token_shown_once_and_stored_hashed(auth, rep, client):
    auth.login(rep)
    resp = client.post("/account/tokens", data={"token-name": "Lead form",
                                                "token-expires": "90"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "shown only this once" in html
    row = db.session.scalar(select(ApiToken))
    secret = html.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("rpt_") and len(secret) > 40
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(row.__dict__) and row.name == "Lead form"
    assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)
    # Shown once: the page read again lists it by its first characters only.
    again = client.get("/account").get_data(as_text=True)
    assert secret not in again and row.prefix in again and "Lead form" in again
    assert client.get("/api/v1/users/me", headers=bearer(secret)).json["email"] == rep.email
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.action == "token_created")) == "token_created"


def test_a_token_needs_a_name(auth, rep, client):
    auth.login(rep)
    resp = client.post("/account/tokens", data={"token-name": " ", "token-expires": "never"})
    assert resp.status_code == 200 and "This field is required" in resp.get_data(as_text=True)
    assert db.session.scalar(select(ApiToken)) is None


def test_revoking_stops_the_token_and_is_audited(auth, rep, other_rep, client):
    secret = make_token(rep)
    token_id = db.session.scalar(select(ApiToken.id))
    assert client.get("/api/v1/users/me", headers=bearer(secret)).status_code == 200
    auth.login(other_rep)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 404   # not theirs
    auth.login(rep)
    assert client.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    resp = client.get("/api/v1/users/me", headers=bearer(secret))
    assert resp.status_code == 401 and resp.mimetype == "application/problem+json"
    assert "Bearer" in resp.headers["WWW-Authenticate"]
    assert "Stopped: revoked" in client.get("/account").get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent.summary).where(
        AuditEvent.action == "token_revoked")).startswith("API token")


def test_an_expired_token_stops(rep, client):
    made = tokens.create_token(rep, rep, "short", expires_in_days=1)
    db.session.commit()
    assert client.get("/api/v1/users/me", headers=bearer(made.secret)).status_code == 200
    made.token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/users/me", headers=bearer(made.secret)).status_code == 401
    assert tokens.state_of(made.token) == "expired"


def test_deactivating_the_user_stops_their_tokens_for_good(admin, rep, client):
    secret = make_token(rep)
    accounts.set_active(admin, rep, False)
    db.session.commit()
    assert client.get("/api/v1/users/me", headers=bearer(secret)).status_code == 401
    accounts.set_active(admin, rep, True)
    db.session.commit()
    assert client.get("/api/v1/users/me", headers=bearer(secret)).status_code == 401
    assert db.session.scalar(select(ApiToken.revoked_reason)) == "user deactivated"


def test_a_new_password_stops_the_tokens_made_before_it(rep, client):
    secret = make_token(rep)
    passwords.change_password(rep, current=factories.PASSWORD, new="a new long password",
                              confirm="a new long password")
    db.session.commit()
    assert client.get("/api/v1/users/me", headers=bearer(secret)).status_code == 401
    later = make_token(rep)
    assert client.get("/api/v1/users/me", headers=bearer(later)).status_code == 200


def test_a_password_set_by_any_road_stops_older_tokens(rep, client):
    """Even a road that forgets to revoke them (here the model's own set_password)."""
    secret = make_token(rep)
    db.session.execute(ApiToken.__table__.update().values(
        created_at=utcnow() - timedelta(minutes=5)))
    rep.set_password("another long password")
    db.session.commit()
    assert client.get("/api/v1/users/me", headers=bearer(secret)).status_code == 401


def test_a_session_cookie_does_not_sign_in_to_the_api(auth, rep, client):
    auth.login(rep)
    assert client.get("/contacts").status_code == 200          # the cookie works on pages
    resp = client.get("/api/v1/contacts")
    assert resp.status_code == 401 and resp.json["status"] == 401
    for header in ("Bearer", "Bearer nonsense", "Basic cmVwOnB3", "Token rpt_x"):
        assert client.get("/api/v1/contacts",
                          headers={"Authorization": header}).status_code == 401


def test_last_use_is_kept(rep, client):
    secret = make_token(rep)
    client.get("/api/v1/users/me", headers=bearer(secret))
    db.session.expire_all()
    assert db.session.scalar(select(ApiToken.last_used_at)) is not None


def test_cli_makes_a_token_for_scripts(app, rep):
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tokens", "create", "--email", rep.email, "--name", "Bridge",
                                 "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["email"] == rep.email and out["token"].startswith("rpt_")
    assert out["expires_at"] is None
    assert tokens.user_for_token(out["token"])[0].id == rep.id
    bad = runner.invoke(args=["tokens", "create", "--email", "nobody@x.test", "--name", "B"])
    assert bad.exit_code != 0 and "No user" in bad.output


def _app_with(app, **settings):
    config = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], **settings}
    return create_app(type("C", (TestConfig,), config))


def test_csrf_does_not_apply_to_token_requests(app, rep):
    secret = make_token(rep)
    guarded = _app_with(app, WTF_CSRF_ENABLED=True)
    client = guarded.test_client()
    with guarded.app_context():
        resp = client.post("/api/v1/contacts", json={"name": "Ana Lima"},
                           headers=bearer(secret))
        assert resp.status_code == 201, resp.json
        # …while a page's form still needs its token.
        assert client.post("/login", data={"email": rep.email,
                                           "password": factories.PASSWORD}).status_code == 400


def test_each_token_is_rate_limited_with_retry_after(app, rep, other_rep):
    one, two = make_token(rep), make_token(other_rep)
    limited = _app_with(app, RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute",
                        RATELIMIT_STORAGE_URI="memory://")
    client = limited.test_client()
    with limited.app_context():
        codes = [client.get("/api/v1/users/me", headers=bearer(one)).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.get("/api/v1/users/me", headers=bearer(one))
        assert refused.mimetype == "application/problem+json"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert client.get("/api/v1/users/me", headers=bearer(two)).status_code == 200
