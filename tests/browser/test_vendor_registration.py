"""A software company registers: company, portal address and e-mail; the mailed link; a password; the dashboard."""

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_a_company_registers_from_the_login_page_and_finishes_from_the_mail(page, live_server, mailbox,
                                                                            console_errors):
    page.goto("/vendor/login")
    page.get_by_role("link", name="Create a vendor account").click()
    page.get_by_label("Company name").fill("Initech")
    page.get_by_label("Portal address").fill("initech")
    page.get_by_label("Your e-mail").fill("bill@initech.test")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1, name="Check your mail")).to_be_visible()
    expect(page.get_by_text("We sent a message to bill@initech.test")).to_be_visible()

    link = mailbox.last_link("bill@initech.test", "/vendor/register/finish?token=")
    assert link.startswith(f"{live_server}/vendor/register/finish?token=")
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish creating your vendor account")
    expect(page.get_by_label("Company name")).to_have_value("Initech")
    page.get_by_label("Password", exact=True).fill("initech")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#password-error")).to_be_visible()  # too short, said at the field
    expect(page.get_by_label("Password", exact=True)).to_be_focused()
    assert len(console_errors) == 1 and "422" in console_errors[0]  # the refused form's status, as intended
    console_errors.clear()
    page.get_by_label("Password", exact=True).fill("tps-reports-cover-sheet")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome! Your portal is ready.")).to_be_visible()
    expect(page).to_have_url(f"{live_server}/vendor/")
