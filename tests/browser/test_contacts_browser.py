"""A person signs in, creates an influencer with two handles, finds them, and opts them out."""
import re

from playwright.sync_api import expect

from crm.contacts.models import ConsentEvent, Contact
from tests.browser.conftest import wait_for_htmx


def open_contacts(page):
    """Follow the main navigation to Contacts. It is boosted: wait until htmx has swapped in
    and wired the contacts page before using it."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    expect(page).to_have_url(re.compile(r"/contacts$"))
    wait_for_htmx(page, "form[role=search]")


def test_create_search_and_opt_out(page, live_server, sign_in, rep, db):
    sign_in(page, rep)
    open_contacts(page)
    page.get_by_role("link", name="New contact").first.click()
    expect(page.get_by_role("heading", name="New contact")).to_be_visible()
    page.get_by_label("Kind").select_option("influencer")
    page.locator("#name").fill("Priya Nair")
    page.get_by_label("Niche").fill("wellness")
    page.locator("#handles-0-platform").select_option("instagram")
    page.locator("#handles-0-handle").fill("https://www.instagram.com/Priya.Moves/")
    page.locator("#handles-1-platform").select_option("tiktok")
    page.locator("#handles-1-handle").fill("@PriyaMoves")
    page.get_by_role("button", name="Create contact").click()
    expect(page.get_by_role("heading", name="Priya Nair")).to_be_visible()
    expect(page.locator("#handles")).to_contain_text("@priya.moves")
    expect(page.locator("#handles")).to_contain_text("@priyamoves")

    open_contacts(page)
    page.get_by_label("Search").fill("priya.mo")
    expect(page).to_have_url(re.compile(r"q=priya.mo"))
    expect(page.locator("#contact-results")).to_contain_text("Priya Nair")
    page.locator("#contact-results").get_by_role("link", name="Priya Nair").click()

    page.locator("#consent").get_by_role("button", name="Opt out").click()
    expect(page.locator("#consent")).to_contain_text("Opted out")
    expect(page.locator("#consent-badge")).to_contain_text("Opted out")
    contact = db.session.query(Contact).filter_by(name="Priya Nair").one()
    db.session.refresh(contact)
    assert contact.consent_status == "opted_out"
    assert db.session.query(ConsentEvent).filter_by(contact_id=contact.id).count() == 1
