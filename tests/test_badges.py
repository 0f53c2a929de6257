"""The consent, kind and platform labels every list shows (crm/core/badges.py)."""
from types import SimpleNamespace

from markupsafe import Markup

from crm.core.badges import consent_badge, kind_badge, platform_chip


def person(**kw):
    return SimpleNamespace(**{"do_not_contact": False, "consent_status": "unknown",
                              "kind": "contact", **kw})


def test_consent_badge_says_do_not_contact_before_the_consent_status():
    assert consent_badge(person(do_not_contact=True, consent_status="opted_in")) == (
        '<span class="badge badge-danger" title="Do not contact">Do not contact</span>')
    assert consent_badge(person(consent_status="opted_out")) == (
        '<span class="badge badge-danger">Opted out</span>')
    assert consent_badge(person(consent_status="opted_in")) == (
        '<span class="badge badge-ok">Opted in</span>')
    assert consent_badge(person()) == '<span class="badge badge-muted">Consent unknown</span>'


def test_kind_badge_and_platform_chip_name_the_kind_and_platform():
    assert kind_badge(person(kind="influencer")) == (
        '<span class="badge badge-kind-influencer">Influencer</span>')
    assert platform_chip("tiktok") == '<span class="chip chip-tiktok">TikTok</span>'
    assert platform_chip("x", "On X") == '<span class="chip chip-x">On X</span>'


def test_badges_escape_what_they_are_given():
    chip = platform_chip('"><script>', "<b>")
    assert isinstance(chip, Markup)
    assert "<script>" not in chip and "<b>" not in chip
    assert chip == '<span class="chip chip-&#34;&gt;&lt;script&gt;">&lt;b&gt;</span>'
    assert "<i>" not in kind_badge(person(kind="<i>"))


def test_templates_use_them(auth, rep, db):
    from tests import factories

    factories.ContactFactory(owner=rep, name="Ada Badge", kind="influencer",
                             consent_status="opted_in")
    auth.login(rep)
    html = auth.client.get("/contacts").get_data(as_text=True)
    assert '<span class="badge badge-kind-influencer">Influencer</span>' in html
    assert '<span class="badge badge-ok">Opted in</span>' in html
