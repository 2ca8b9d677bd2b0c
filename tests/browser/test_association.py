"""A vendor invites a customer it created with the association link; the customer joins and accepts the terms."""

import pytest
from playwright.sync_api import expect

TERMS_URL = "https://acme.example/terms"


@pytest.mark.browser
def test_customer_joins_through_association_link_and_accepts_terms(vendor_page, new_page, vendor, mailbox):
    page = vendor_page
    page.get_by_role("link", name="Data objects", exact=True).click()
    page.get_by_label("Name").fill("cryptolens_customtosurl")
    page.get_by_label("String value").fill(TERMS_URL)
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_role("status")).to_contain_text("Data object cryptolens_customtosurl added.")
    expect(page.get_by_role("row", name="cryptolens_customtosurl")).to_contain_text(TERMS_URL)

    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("button", name="New customer").click()
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("E-mail").fill("ada@example.test")
    page.get_by_label("Company").fill("Engines Ltd")
    page.get_by_label("Enable customer association").check()
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()
    link = page.get_by_role("textbox", name="Association link").input_value()
    customer_url = page.url

    customer = new_page()
    customer.goto(link)
    expect(customer.get_by_role("heading", level=1)).to_contain_text("customer portal")
    expect(customer.get_by_text(f"{vendor.name} invited you to see the licenses of Ada Lovelace (Engines Ltd) in its "
                                "portal.")).to_be_visible()
    new_login = customer.get_by_role("article").filter(has=customer.get_by_role("heading", name="Create a login"))
    new_login.get_by_label("Your name").fill("Ada Lovelace")
    new_login.get_by_label("E-mail").fill("ada@example.test")
    new_login.get_by_label("Password").fill("analytical-engine-1843")
    new_login.get_by_role("button", name="Create login").click()
    expect(customer.get_by_role("heading", level=1, name="Check your mail")).to_be_visible()
    customer.goto(mailbox.last_link("ada@example.test", "/Confirm?token="))
    customer.get_by_label("The password you chose").fill("analytical-engine-1843")
    customer.get_by_role("button", name="Confirm my e-mail").click()

    expect(customer.get_by_role("heading", level=1, name="Terms of use")).to_be_visible()
    expect(customer.get_by_role("link", name="Read the terms of use")).to_have_attribute("href", TERMS_URL)
    customer.get_by_role("button", name="I accept the terms of use").click()
    expect(customer.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()
    expect(customer.get_by_text("No licenses yet")).to_be_visible()
    expect(customer.get_by_text("Logged in as ada@example.test")).to_be_visible()

    page.goto(customer_url)
    logins = page.get_by_role("region", name="Portal logins")
    expect(logins.get_by_role("row", name="ada@example.test")).to_be_visible()
    terms = page.get_by_role("region", name="Terms of use accepted")
    expect(terms.get_by_role("row", name="ada@example.test")).to_contain_text(TERMS_URL)
