"""The activity log in the browser: a vendor blocks a key, then finds who blocked which key on the activity page."""

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_who_blocked_which_key_this_week(vendor_page, make, vendor):
    product = make.product(vendor, name="Studio")
    make.key(product)
    key = make.key(product)
    page = vendor_page
    page.on("dialog", lambda dialog: dialog.accept())  # "Block key" may ask first
    page.goto(f"/vendor/keys/{key.id}")
    page.get_by_role("button", name="Block key").click()
    expect(page.get_by_text("Key blocked.")).to_be_visible()
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("cell", name="Blocked", exact=True)).to_be_visible()
    # Shown in the browser's time zone by portal.js (here UTC: tests/browser/test_times.py shows another); the UTC
    # time stays as its tooltip.
    moment = history.locator("time").first
    expect(moment).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))

    page.get_by_role("link", name="Activity", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Activity")).to_be_visible()
    page.get_by_label("What").select_option(label="Blocked (License key)")
    page.get_by_label("From").fill(page.evaluate("new Date(Date.now() - 6 * 864e5).toISOString().slice(0, 10)"))
    page.get_by_role("button", name="Show").click()
    rows = page.get_by_role("main").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(make.owner(vendor).email)
    rows.first.get_by_role("link", name=f"Key {key.key_number} of Studio").click()
    expect(page.get_by_role("heading", level=1, name=re.compile(f"License key {key.key_number}"))).to_be_visible()
