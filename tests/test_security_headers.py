"""Security headers: a strict Content-Security-Policy on every page, no framing, HSTS over
HTTPS, nothing a signed-in user sees stored in a cache; and templates the policy can serve."""
import re
from pathlib import Path

import pytest

from tests import factories

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def directives(response) -> dict[str, list[str]]:
    policy = response.headers.get("Content-Security-Policy", "")
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def assert_strict(response):
    csp = directives(response)
    assert csp.get("frame-ancestors") == ["'none'"]
    assert csp.get("object-src") == ["'none'"]
    for name in ("script-src", "style-src"):
        assert csp.get(name) == ["'self'"], name
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("path", ["/login", "/nowhere"])
def test_signed_out_pages_carry_the_policy(client, path):
    assert_strict(client.get(path))


def test_signed_in_pages_fragments_and_errors_carry_the_policy_and_are_not_stored(auth, rep, hx):
    contact = factories.ContactFactory(owner=rep)
    client = auth.login(rep)
    for path, headers in [("/", {}), ("/contacts", {}), ("/contacts", hx),
                          (f"/contacts/{contact.id}", {}), ("/board", {}), ("/today", {}),
                          ("/contacts/999999", {})]:
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 404), path
        assert_strict(response)
        assert response.headers["Cache-Control"] == "no-store", path


@pytest.mark.parametrize("path", ["/contacts/export.csv", "/dashboard/export/summary.csv"])
def test_every_export_is_not_stored(auth, manager, path):
    response = auth.login(manager).get(path)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    response.close()


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://rapport.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_htmx_runs_without_eval_or_injected_styles(client):
    page = client.get("/login").get_data(as_text=True)
    config = re.search(r'name="htmx-config" content=\'([^\']*)\'', page).group(1)
    assert '"allowEval": false' in config
    assert '"includeIndicatorStyles": false' in config


# What the policy refuses, written into a template, would break a page only in the browser.
FORBIDDEN = [
    (re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "an on* attribute"),
    (re.compile(r"\shx-on[:-]", re.I), "hx-on (needs eval)"),
    (re.compile(r"\sstyle\s*=", re.I), "a style attribute"),
    (re.compile(r"<style", re.I), "a <style> element"),
    (re.compile(r"(hx-vals|hx-headers)\s*=\s*['\"]\s*(js|javascript):", re.I), "js: values (eval)"),
    (re.compile(r"hx-trigger\s*=\s*\"[^\"]*\[", re.I), "a trigger filter (eval)"),
    (re.compile(r"javascript:", re.I), "a javascript: URL"),
]


def test_templates_hold_nothing_the_policy_refuses():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        for pattern, what in FORBIDDEN:
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(TEMPLATES)}:{line}: {what}")
    assert found == []
