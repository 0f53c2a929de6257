"""Bad input and limits: malformed JSON, unknown fields, wrong types, a body over the limit,
a body that is not JSON, a cursor that was tampered with or used with other filters: a 4xx
problem document (RFC 9457) naming the field, and nothing written."""
from sqlalchemy import func, select

from crm.contacts.models import Contact
from crm.extensions import db
from tests import factories


def _contacts() -> int:
    return db.session.scalar(select(func.count()).select_from(Contact))


def _is_problem(resp, status):
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    body = resp.json
    assert body["status"] == status and body["title"] and body["type"] == "about:blank"
    return body


def test_malformed_json(rep, api_as):
    api = api_as(rep)
    resp = api.client.post("/api/v1/contacts", data='{"name": "Ana",',
                           headers={**api.headers, "Content-Type": "application/json"})
    assert "not valid JSON" in _is_problem(resp, 400)["detail"]
    assert _contacts() == 0


def test_unknown_fields_and_wrong_types_name_the_field(rep, api_as):
    api = api_as(rep)
    body = _is_problem(api.post("/api/v1/contacts", json={"name": "Ana", "nickname": "A"}), 422)
    assert body["errors"] == [{"field": "nickname", "detail": "Unknown field."}]
    body = _is_problem(api.post("/api/v1/contacts", json={"name": 42}), 422)
    assert body["errors"][0]["field"] == "name"
    body = _is_problem(api.post("/api/v1/contacts", json={"name": "Ana", "handles": [
        {"platform": "instagram", "handle": "ana", "followers": "many"}]}), 422)
    assert body["errors"][0]["field"] == "handles.0.followers"
    body = _is_problem(api.post("/api/v1/contacts", json={}), 422)
    assert body["errors"][0]["field"] == "name"
    body = _is_problem(api.get("/api/v1/contacts?limit=1000"), 422)
    assert body["errors"][0]["field"] == "query.limit"
    body = _is_problem(api.get("/api/v1/contacts?kind=alien"), 422)
    assert body["errors"][0]["field"] == "query.kind"
    assert _contacts() == 0


def test_a_body_over_the_limit_and_one_that_is_not_json(app, rep, api_as):
    api = api_as(rep)
    big = "x" * (app.config["API_MAX_BODY_BYTES"] + 10)
    resp = api.post("/api/v1/contacts", json={"name": "Ana", "notes": big})
    _is_problem(resp, 413)
    resp = api.client.post("/api/v1/contacts", data="name=Ana", headers={
        **api.headers, "Content-Type": "application/x-www-form-urlencoded"})
    _is_problem(resp, 415)
    assert _contacts() == 0


def test_a_tampered_cursor_or_one_for_other_filters_is_refused(rep, api_as):
    for i in range(3):
        factories.ContactFactory(name=f"Person {i}", owner_id=rep.id)
    api = api_as(rep)
    page = api.get("/api/v1/contacts?limit=2").json
    cursor = page["next"].split("cursor=")[1]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")
    body = _is_problem(api.get(f"/api/v1/contacts?limit=2&cursor={tampered}"), 400)
    assert body["errors"][0]["field"] == "cursor"
    _is_problem(api.get(f"/api/v1/contacts?limit=2&kind=lead&cursor={cursor}"), 400)
    _is_problem(api.get(f"/api/v1/tasks?cursor={cursor}"), 400)
    assert api.get(f"/api/v1/contacts?limit=2&cursor={cursor}").status_code == 200


def test_unknown_endpoint_and_method(rep, api_as):
    api = api_as(rep)
    _is_problem(api.get("/api/v1/nothing-here"), 404)
    _is_problem(api.client.delete("/api/v1/contacts", headers=api.headers), 405)


def test_an_edit_that_empties_the_name_is_refused_naming_it(rep, api_as):
    contact = factories.ContactFactory(name="Ana Ortiz", owner_id=rep.id)
    db.session.commit()
    api = api_as(rep)
    body = _is_problem(api.patch(f"/api/v1/contacts/{contact.id}", json={"name": "  "}), 422)
    assert body["errors"][0]["field"] == "name"
    db.session.expire_all()
    assert db.session.get(Contact, contact.id).name == "Ana Ortiz"
