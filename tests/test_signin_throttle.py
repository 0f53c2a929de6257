"""Sign-in throttling: failures only, per account and per address, behind trusted proxies;
unknown emails checked like known ones; a test configuration refuses to serve."""
import os
import subprocess
import sys
from pathlib import Path

from config import TestConfig
from crm import create_app
from crm.audit.models import AuditEvent
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def limited_app(app, **settings):
    """An app like the tests' own (same database) with sign-in throttling on."""
    config = {"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
              "RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute",
              "LOGIN_ACCOUNT_LIMIT": "100 per minute", **settings}
    return create_app(type("C", (TestConfig,), config))


def sign_in(client, email, password, via=None):
    headers = {"X-Forwarded-For": via} if via else {}
    return client.post("/login", data={"email": email, "password": password}, headers=headers)


def test_successful_sign_ins_do_not_count(app, db, rep):
    db.session.commit()
    limited = limited_app(app)
    client = limited.test_client()
    with limited.app_context():
        for _ in range(6):
            assert sign_in(client, rep.email, factories.PASSWORD).status_code == 302
            assert client.post("/logout").status_code == 302


def test_failures_from_one_address_do_not_block_another_behind_the_proxy(app, db, admin):
    db.session.commit()
    limited = limited_app(app, TRUSTED_PROXIES=1)
    client = limited.test_client()
    with limited.app_context():
        codes = [sign_in(client, "someone@example.com", "guess", via="198.51.100.7").status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        resp = sign_in(client, admin.email, factories.PASSWORD, via="203.0.113.9")
    assert resp.status_code == 302


def test_forwarded_for_is_ignored_without_trusted_proxies(app, db, rep):
    db.session.commit()
    limited = limited_app(app)
    client = limited.test_client()
    with limited.app_context():
        codes = [sign_in(client, rep.email, "guess", via=f"198.51.100.{i}").status_code
                 for i in range(4)]
    assert codes == [200, 200, 200, 429]


def test_an_account_guessed_from_many_addresses_is_locked_and_says_so(app, db, rep):
    db.session.commit()
    limited = limited_app(app, TRUSTED_PROXIES=1, LOGIN_ACCOUNT_LIMIT="3 per 15 minutes",
                          LOGIN_RATE_LIMIT="100 per minute")
    client = limited.test_client()
    with limited.app_context():
        codes = [sign_in(client, rep.email, "guess", via=f"198.51.100.{i}").status_code
                 for i in range(3)]
        assert codes == [200, 200, 200]
        resp = sign_in(client, rep.email, factories.PASSWORD, via="203.0.113.9")
        assert resp.status_code == 429
        assert b"This account is locked after too many failed sign-ins" in resp.data
        assert int(resp.headers["Retry-After"]) > 60
        assert client.get("/contacts").status_code == 302
        # Another account is not affected.
        other = factories.UserFactory(email="other@example.com")
        db.session.commit()
        assert sign_in(client, other.email, factories.PASSWORD, via="203.0.113.9"
                       ).status_code == 302
    locks = db.session.query(AuditEvent).filter_by(action="sign_in_locked").all()
    assert [e.entity_id for e in locks] == [rep.id]


def test_unknown_emails_lock_the_same_way(app, db):
    limited = limited_app(app, LOGIN_ACCOUNT_LIMIT="2 per 15 minutes",
                          LOGIN_RATE_LIMIT="100 per minute")
    client = limited.test_client()
    with limited.app_context():
        codes = [sign_in(client, "nobody@example.com", "guess").status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        assert b"This account is locked" in sign_in(client, "nobody@example.com", "x").data


def test_a_successful_sign_in_clears_the_account_failures(app, db, rep):
    db.session.commit()
    limited = limited_app(app, LOGIN_ACCOUNT_LIMIT="3 per 15 minutes",
                          LOGIN_RATE_LIMIT="100 per minute")
    client = limited.test_client()
    with limited.app_context():
        for _ in range(2):
            sign_in(client, rep.email, "guess")
        assert sign_in(client, rep.email, factories.PASSWORD).status_code == 302
        client.post("/logout")
        codes = [sign_in(client, rep.email, "guess").status_code for _ in range(2)]
    assert codes == [200, 200]


def test_unknown_and_known_emails_run_the_same_password_check(client, rep, db, monkeypatch):
    """No clock: an unknown email runs exactly one hash check, of the same method and cost
    (the `method:params` prefix of the stored hash) as a real account's."""
    import werkzeug.security

    from crm.accounts import models as account_models
    from crm.accounts import signin
    db.session.commit()
    checked = []

    def spy(stored, password):
        checked.append(stored.rsplit("$", 2)[0])
        return werkzeug.security.check_password_hash(stored, password)

    monkeypatch.setattr(signin, "check_password_hash", spy)
    monkeypatch.setattr(account_models, "check_password_hash", spy)
    for email in (rep.email, "nobody@example.com"):
        assert client.post("/login", data={"email": email, "password": "guess"}
                           ).status_code == 200
    method = rep.password_hash.rsplit("$", 2)[0]
    assert method.startswith("scrypt:") or method.startswith("pbkdf2:")
    assert checked == [method, method]


def test_sign_ins_and_failures_are_audited(client, rep, db):
    db.session.commit()
    client.post("/login", data={"email": rep.email, "password": "guess"})
    client.post("/login", data={"email": "nobody@example.com", "password": "guess"})
    client.post("/login", data={"email": rep.email, "password": factories.PASSWORD})
    rows = [(e.action, e.actor_id, e.entity_id)
            for e in db.session.query(AuditEvent).order_by(AuditEvent.id)]
    assert rows == [("sign_in_failed", None, rep.id), ("sign_in_failed", None, None),
                    ("sign_in", rep.id, rep.id)]


def test_admins_find_security_events_in_the_audit_log(auth, admin, db):
    auth.client.post("/login", data={"email": "nobody@example.com", "password": "guess"})
    page = auth.login(admin).get("/admin/audit?action=sign_in_failed").get_data(as_text=True)
    assert "Failed sign-in as nobody@example.com" in page
    assert "<option selected>sign_in_failed</option>" in page    # offered in the filter


def test_serving_with_the_test_configuration_is_refused(tmp_path):
    env = {**os.environ, "RAPPORT_CONFIG": "config.TestConfig", "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "Refusing to serve with a test configuration" in result.stderr
    assert "CSRF protection is off" in result.stderr
