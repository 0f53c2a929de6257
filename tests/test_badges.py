"""The consent, kind and platform labels every list shows (macros in templates/_macros/ui.html)."""
from types import SimpleNamespace

import pytest
from markupsafe import Markup

from crm.core.timeutil import utcnow


@pytest.fixture
def ui(app):
    """The macros as the templates import them; each answers Markup."""
    with app.test_request_context():
        yield app.jinja_env.get_template("_macros/ui.html").module


def person(**kw):
    return SimpleNamespace(**{"do_not_contact": False, "consent_status": "unknown",
                              "kind": "contact", **kw})


def test_consent_badge_says_do_not_contact_before_the_consent_status(ui):
    assert ui.consent_badge(person(do_not_contact=True, consent_status="opted_in")) == (
        '<span class="badge badge-danger" title="Do not contact">Do not contact</span>')
    assert ui.consent_badge(person(consent_status="opted_out")) == (
        '<span class="badge badge-danger">Opted out</span>')
    assert ui.consent_badge(person(consent_status="opted_in")) == (
        '<span class="badge badge-ok">Opted in</span>')
    assert ui.consent_badge(person()) == '<span class="badge badge-muted">Consent unknown</span>'


def test_kind_badge_and_platform_chip_name_the_kind_and_platform(ui):
    assert ui.kind_badge(person(kind="influencer")) == (
        '<span class="badge badge-kind-influencer">Influencer</span>')
    assert ui.platform_chip("tiktok") == '<span class="chip chip-tiktok">TikTok</span>'
    assert ui.platform_chip("x", "On X") == '<span class="chip chip-x">On X</span>'


def test_last_dm_text_says_who_wrote_last_and_when(ui):
    from datetime import timedelta

    hours_ago = utcnow() - timedelta(hours=5, minutes=1)
    conv = SimpleNamespace(state="needs_reply", last_inbound_at=hours_ago,
                           last_outbound_at=None, last_message_at=hours_ago)
    assert ui.last_dm_text(None) == '<span class="muted">No DMs logged</span>'
    assert ui.last_dm_text(conv) == ('<span class="badge badge-warn">Needs reply</span> '
                                  '<span class="muted">they wrote 5 h 1 min ago</span>')
    conv.state, conv.last_outbound_at = "awaiting_reply", hours_ago
    assert ui.last_dm_text(conv) == (
        '<span class="muted">You wrote 5 h 1 min ago · no reply yet</span>')
    conv.state = "closed"
    assert ui.last_dm_text(conv) == '<span class="muted">Last DM 5 h 1 min ago</span>'


def test_badges_escape_what_they_are_given(ui):
    chip = ui.platform_chip('"><script>', "<b>")
    assert isinstance(chip, Markup)
    assert "<script>" not in chip and "<b>" not in chip
    assert chip == '<span class="chip chip-&#34;&gt;&lt;script&gt;">&lt;b&gt;</span>'
    assert "<i>" not in ui.kind_badge(person(kind="<i>"))


def test_templates_use_them(auth, rep, db):
    from tests import factories

    factories.ContactFactory(owner=rep, name="Ada Badge", kind="influencer",
                             consent_status="opted_in")
    auth.login(rep)
    html = auth.client.get("/contacts").get_data(as_text=True)
    assert '<span class="badge badge-kind-influencer">Influencer</span>' in html
    assert '<span class="badge badge-ok">Opted in</span>' in html
