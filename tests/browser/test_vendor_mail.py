"""Mail on the vendor's behalf and the customer's side, in the browser: "E-mail this link", the expiry reminder
setting, a product's getting-started text on the license card, and the customer's own details."""

import re
import tempfile

import pytest
from playwright.sync_api import expect

from portal.products.services import update_product
from tests.support.factories import CUSTOMER_PASSWORD
from tests.support.mail import text_of

SCREENSHOTS = tempfile.gettempdir()  # screenshots of the pages, to look at after a run


@pytest.mark.browser
def test_vendor_mails_the_link_sets_reminders_and_a_products_getting_started(vendor_page, make, vendor, mailbox,
                                                                              console_errors):
    invited = make.customer(vendor, name="Grace Hopper", email="grace@example.test", association=True)
    product = make.product(vendor, name="Photo Editor")
    page = vendor_page

    page.goto(f"/vendor/customers/{invited.id}")
    section = page.get_by_role("region", name="Association link")
    section.get_by_role("button", name="E-mail this link").click()
    expect(page.get_by_text("The link is on its way to grace@example.test.")).to_be_visible()
    expect(section).to_contain_text(re.compile(r"Mailed to grace@example\.test on \d{4}-\d\d-\d\d \d\d:\d\d UTC"))
    page.screenshot(path=f"{SCREENSHOTS}/vendor_mail_customer_page.png", full_page=True)
    [mail] = mailbox.to("grace@example.test")
    assert section.get_by_role("textbox", name="Association link").input_value() in text_of(mail)
    # A new link made: the message about the mailed one (now dead) goes, the section says what happened.
    page.once("dialog", lambda dialog: dialog.accept())
    section.get_by_role("button", name="Make a new link").click()
    expect(section).to_contain_text("New association link made; the old one no longer works.")
    expect(page.get_by_text("The link is on its way to grace@example.test.")).to_have_count(0)

    page.goto("/vendor/settings")
    reminders = page.get_by_role("article", name="Expiry reminders")
    reminders.get_by_label("Days before expiry").fill("10")
    reminders.get_by_role("button", name="Save reminders").click()
    expect(page.get_by_text("Customers are reminded 10 days before a key expires.")).to_be_visible()
    expect(page.get_by_label("Days before expiry")).to_have_value("10")
    page.screenshot(path=f"{SCREENSHOTS}/vendor_mail_settings.png", full_page=True)

    page.goto(f"/vendor/products/{product.id}")
    page.get_by_role("button", name="Edit").click()
    page.get_by_label("How to get started").fill("Install it, then paste your key.")
    page.get_by_label("Download address").fill("ftp://acme.example/x")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Download address")).to_have_accessible_description(re.compile("https://"))
    assert len(console_errors) == 1 and "422" in console_errors[0], console_errors  # the refused page's status
    console_errors.clear()
    page.screenshot(path=f"{SCREENSHOTS}/vendor_mail_product_form.png", full_page=True)
    page.get_by_label("Download address").fill("https://acme.example/download")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1, name="Photo Editor")).to_be_visible()


@pytest.mark.browser
def test_customer_sees_how_to_get_started_and_edits_their_details(page, make, vendor, db, console_errors):
    product = make.product(vendor, name="Photo Editor")
    customer = make.customer(vendor, name="Ada Lovelace")
    account = make.account(vendor, customer, email="ada@example.test")
    make.key(product, customer=customer)
    update_product(db, product=product, actor="test", getting_started="Install it.\nPaste your key.",
                   download_url="https://acme.example/download")
    db.commit()

    page.goto(f"/Portal/@{vendor.slug}/Login")
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Password").fill(CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    card = page.get_by_role("article", name="Photo Editor")
    expect(card.get_by_role("definition").filter(has_text="Install it.")).to_contain_text("Paste your key.")
    expect(card.get_by_role("link", name="Download Photo Editor")).to_have_attribute(
        "href", "https://acme.example/download")
    page.screenshot(path=f"{SCREENSHOTS}/vendor_mail_license_card.png", full_page=True)

    page.get_by_role("link", name="Edit your details").click()
    page.get_by_label("Your name").fill("")
    page.get_by_label("Company").fill("")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_label("Your name")).to_have_accessible_description("Give your name or your company.")
    page.screenshot(path=f"{SCREENSHOTS}/vendor_mail_details.png", full_page=True)
    assert len(console_errors) == 1 and "422" in console_errors[0], console_errors
    console_errors.clear()
    page.get_by_label("Your name").fill("Ada King")
    page.get_by_label("Company").fill("Analytical Engines")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("heading", level=1, name="Ada King")).to_be_visible()
    expect(page.get_by_text("Analytical Engines")).to_be_visible()
