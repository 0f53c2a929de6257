"""Admin: users and roles, the audit log, settings."""
import pytest

from crm.accounts.models import User
from crm.audit.models import AuditEvent
from crm.settings import services as settings


@pytest.mark.parametrize("role", ["manager", "rep"])
@pytest.mark.parametrize("path", ["/admin/users", "/admin/audit", "/admin/settings"])
def test_admin_pages_are_404_for_others(auth, db, role, path, request):
    user = request.getfixturevalue(role)
    assert auth.login(user).get(path).status_code == 404


def test_admin_adds_user(auth, admin, db):
    client = auth.login(admin)
    resp = client.post("/admin/users", data={"name": "New Rep", "email": "New@Example.com",
                                             "role": "rep", "password": "long enough pw"})
    assert resp.status_code == 302
    user = db.session.query(User).filter_by(email="new@example.com").one()
    assert user.role == "rep" and user.check_password("long enough pw")
    assert db.session.query(AuditEvent).filter_by(entity_type="user", action="create").count() == 1


def test_a_new_user_is_a_sales_rep_unless_chosen_otherwise(auth, admin):
    page = auth.login(admin).get("/admin/users").get_data(as_text=True)
    form = page[page.index('name="role" id="role"') if 'name="role" id="role"' in page
                else page.index('id="role"'):]
    select = form[:form.index("</select>")]
    assert '<option selected value="rep">Sales rep</option>' in select
    assert select.index('value="rep"') < select.index('value="manager"') < select.index(
        'value="admin"')


@pytest.mark.parametrize("data,message", [
    ({"name": "X", "email": "admin@example.com", "role": "rep", "password": "long enough pw"},
     b"already exists"),
    ({"name": "X", "email": "not-an-email", "role": "rep", "password": "long enough pw"},
     b"Enter an email address"),
    ({"name": "X", "email": "x@example.com", "role": "rep", "password": "short"},
     b"at least 10"),
    ({"name": "", "email": "x@example.com", "role": "rep", "password": "long enough pw"},
     b"This field is required"),
])
def test_admin_add_user_bad_input(auth, admin, db, data, message):
    resp = auth.login(admin).post("/admin/users", data=data)
    assert resp.status_code == 200 and message in resp.data
    assert db.session.query(User).count() == 1


def test_change_role_and_deactivate(auth, admin, rep, db):
    client = auth.login(admin)
    client.post(f"/admin/users/{rep.id}/role", data={"role": "manager"})
    db.session.refresh(rep)
    assert rep.role == "manager"
    client.post(f"/admin/users/{rep.id}/active", data={"active": "0"})
    db.session.refresh(rep)
    assert rep.active is False
    client.post(f"/admin/users/{admin.id}/active", data={"active": "0"})
    db.session.refresh(admin)
    assert admin.active is True  # no one locks themselves out


def test_audit_log_filters(auth, admin, rep, db):
    from crm.audit import services as audit
    audit.record(rep, "create", None, summary="Rep did a thing", entity_type="contact",
                 entity_id=1)
    audit.record(admin, "archive", None, summary="Admin archived", entity_type="contact",
                 entity_id=2)
    db.session.commit()
    client = auth.login(admin)
    page = client.get(f"/admin/audit?actor={rep.id}").data
    assert b"Rep did a thing" in page and b"Admin archived" not in page
    page = client.get("/admin/audit?action=archive").data
    assert b"Admin archived" in page and b"Rep did a thing" not in page
    assert client.get("/admin/audit?since=bad-date").status_code == 200


def test_settings_saved_and_validated(auth, admin, db):
    client = auth.login(admin)
    resp = client.post("/admin/settings", data={"response_target_hours": "12",
                                                "duplicate_window_days": "5",
                                                "stop_phrases": "stop\nunsubscribe\n"})
    assert resp.status_code == 302
    assert settings.get("response_target_hours") == 12
    assert settings.get("stop_phrases") == ["stop", "unsubscribe"]
    resp = client.post("/admin/settings", data={"response_target_hours": "0",
                                                "duplicate_window_days": "5",
                                                "stop_phrases": "stop"})
    assert resp.status_code == 200 and b"Number must be between" in resp.data
    assert settings.get("response_target_hours") == 12


def test_settings_read_once_per_session_and_a_rolled_back_change_is_forgotten(db, count_queries):
    db.session.commit()
    db.session.close()
    with count_queries() as q:
        assert settings.get("response_target_hours") == 24      # never saved: the default
        assert settings.get("duplicate_window_days") == 7
        assert settings.get("response_target_hours") == 24
    assert q.count == 1
    settings.put("response_target_hours", 6)
    assert settings.get("response_target_hours") == 6
    db.session.rollback()
    assert settings.get("response_target_hours") == 24
    settings.put("response_target_hours", 8)
    db.session.commit()
    db.session.close()
    assert settings.get("response_target_hours") == 8
