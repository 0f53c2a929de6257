"""The OpenAPI document (generated from the schemas that validate requests) is valid
OpenAPI 3.1, describes every API route, and its reference page is served from our own
static files under the strict Content-Security-Policy."""
from pathlib import Path

from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parents[2]


def test_the_document_is_valid_openapi_3_1_and_covers_every_route(app, client):
    resp = client.get("/api/v1/openapi.json")     # no token needed for the description
    assert resp.status_code == 200
    spec = resp.json
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    documented = {(path, method.upper()) for path, ops in spec["paths"].items()
                  for method in ops if method != "parameters"}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api."):
            path = rule.rule.replace("<int:", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                routes.add((path, method))
    assert routes and routes == documented
    assert not any(p.startswith("/contacts") or p == "/login" for p, _ in documented)
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # Request bodies are the validating schemas: unknown fields are refused, as documented.
    contact_in = spec["components"]["schemas"]["ContactIn"]
    assert "name" in contact_in["required"] and "nickname" not in contact_in["properties"]
    move = spec["paths"]["/api/v1/deals/{deal_id}/move"]["post"]
    assert "409" in move["responses"]
    assert "application/problem+json" in move["responses"]["409"]["content"]


def test_the_reference_page_uses_vendored_assets_only(auth, rep, client):
    auth.login(rep)
    resp = client.get("/api/docs")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert "//" not in "".join(line for line in html.splitlines() if "<script" in line)
    for asset in ("vendor/swagger-ui-5.36.0/swagger-ui-bundle.js",
                  "vendor/swagger-ui-5.36.0/swagger-ui.css", "js/api-docs.js"):
        assert f"/static/{asset}" in html
        assert (ROOT / "static" / asset).is_file()
    assert "<script>" not in html
    assert (ROOT / "static" / "vendor" / "swagger-ui-5.36.0" / "LICENSE").is_file()


def test_the_reference_page_needs_a_signed_in_user(client):
    assert client.get("/api/docs").status_code == 302
