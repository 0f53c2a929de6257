"""A person uploads their Instagram export, reviews it, imports it, and reads the DMs on the
contact; then brings in a spreadsheet of contacts."""
from playwright.sync_api import expect
from sqlalchemy import select

from crm.contacts.models import Contact
from crm.conversations.models import Conversation, Message
from tests.test_imports_support import (import_storage,  # noqa: F401 (fixture)
                                        FIXTURES, zip_bytes)

SCREENS = "tests/browser/screenshots"


def test_upload_review_confirm_and_read_the_conversation(page, live_server, sign_in, rep, db,
                                                         tmp_path):
    export = tmp_path / "instagram-maya.zip"
    export.write_bytes(zip_bytes(FIXTURES / "instagram").getvalue())
    sign_in(page, rep)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Imports").click()
    expect(page.get_by_role("heading", name="Imports", exact=True)).to_be_visible()
    page.get_by_label("Export file(s)").set_input_files(str(export))
    page.get_by_role("button", name="Upload and review").click()

    expect(page.get_by_role("heading", name="Review your Instagram export")).to_be_visible()
    expect(page.get_by_text("Nothing imported yet")).to_be_visible()
    page.screenshot(path=f"{SCREENS}/imports_who_are_you.png", full_page=True)
    page.get_by_label("Alex Rivera").check()
    page.get_by_role("button", name="This is me").click()
    expect(page.get_by_text("You are Alex Rivera")).to_be_visible()
    threads = page.locator(".import-threads")
    expect(threads).to_contain_text("Maya Lindqvist")
    expect(threads).to_contain_text("New contact")
    expect(page.locator("#summary")).to_contain_text("1 new contact will be created")
    page.screenshot(path=f"{SCREENS}/imports_preview.png", full_page=True)
    assert db.session.scalars(select(Message)).all() == []      # nothing before confirming

    page.get_by_role("button", name="Import 1 conversation").click()
    expect(page.get_by_role("heading", name="Imported instagram-maya.zip")).to_be_visible()
    expect(page.locator(".stat-grid")).to_contain_text("8")
    page.screenshot(path=f"{SCREENS}/imports_result.png", full_page=True)
    page.locator(".import-touched").get_by_role("link", name="Maya Lindqvist").click()

    expect(page.get_by_role("heading", name="Maya Lindqvist")).to_be_visible()
    panel = page.locator("#conversations")
    expect(panel).to_contain_text("Hi Alex! Loved your portfolio 📸")
    expect(panel).to_contain_text("See you Friday 😊")
    contact = db.session.scalars(select(Contact)).one()
    assert contact.owner_id == rep.id
    conv = db.session.scalars(select(Conversation)).one()
    assert conv.message_count == 8 and conv.platform == "instagram"


def test_contacts_spreadsheet_with_a_bad_row(page, live_server, sign_in, manager, db, tmp_path):
    sheet = tmp_path / "leads.csv"
    sheet.write_text("Full name;E-mail;IG;Consent\n"
                     "Renée Dubois;renee@example.com;renee.eats;opted_in\n"
                     "Bad Row;not-an-email;;\n", encoding="cp1252")
    sign_in(page, manager)
    page.goto(f"{live_server}/imports")
    page.get_by_label("Spreadsheet (.csv)").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload and map columns").click()
    expect(page.get_by_role("heading", name="What is in each column?")).to_be_visible()
    expect(page.get_by_label("Import “IG” as")).to_have_value("handle:instagram")
    page.screenshot(path=f"{SCREENS}/imports_csv_mapping.png", full_page=True)
    page.get_by_role("button", name="Check every row").click()
    expect(page.locator(".csv-failures")).to_contain_text("not-an-email")
    page.screenshot(path=f"{SCREENS}/imports_csv_review.png", full_page=True)
    page.get_by_role("button", name="Import the 1 valid row only").click()
    expect(page.get_by_text("contacts created")).to_be_visible()
    renee = db.session.scalars(select(Contact)).one()
    assert renee.name == "Renée Dubois" and renee.consent_status == "opted_in"


def test_attach_a_thread_to_another_contact_with_the_picker(page, live_server, sign_in, rep, db,
                                                            tmp_path):
    from tests import factories
    from tests.test_imports_support import DATA
    agency = factories.ContactFactory(name="Brand Agency", owner_id=rep.id)
    export = tmp_path / "instagram.zip"
    export.write_bytes(zip_bytes(DATA / "instagram_legacy").getvalue())
    sign_in(page, rep)
    page.goto(f"{live_server}/imports")
    page.get_by_label("Export file(s)").set_input_files(str(export))
    page.get_by_role("button", name="Upload and review").click()
    expect(page.get_by_role("heading", name="Review your Instagram export")).to_be_visible()
    row = page.locator(".import-threads tbody tr").filter(has_text="Brand Collab Co")
    row.get_by_text("Attach to another contact").click()
    row.get_by_label("Contact").press_sequentially("Brand Ag", delay=50)
    row.locator(".suggest-item", has_text="Brand Agency").click()
    expect(row.get_by_label("Contact")).to_have_value("Brand Agency")
    page.get_by_role("button", name="Save choices").click()
    expect(page.get_by_text("Choices saved")).to_be_visible()
    expect(page.locator(".import-threads tbody tr").filter(has_text="Brand Collab Co")) \
        .to_contain_text("chosen by you")
    page.get_by_role("button", name="Import 3 conversations").click()
    expect(page.locator(".import-touched")).to_contain_text("Brand Agency")
    conv = db.session.scalars(select(Conversation).where(
        Conversation.external_thread_id == "brandcollabco_178400003")).one()
    assert conv.contact_id == agency.id
