"""The portal login works from the keyboard alone: Tab reaches each control in order, Enter submits."""

import pytest
from playwright.sync_api import expect

from tests.support.factories import CUSTOMER_PASSWORD


@pytest.mark.browser
def test_portal_login_by_keyboard(page, vendor, account):
    page.goto(f"/Portal/@{vendor.slug}/Login")
    email = page.get_by_label("E-mail")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    for _ in range(10):
        if email.evaluate("field => field === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(email).to_be_focused()
    page.keyboard.type(account.email)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type(CUSTOMER_PASSWORD)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Log in")).to_be_focused()

    page.keyboard.press("Shift+Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()
    expect(page.get_by_text("No licenses yet")).to_be_visible()
