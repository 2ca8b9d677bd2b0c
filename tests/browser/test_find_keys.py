"""Finding a key in the browser: paste it into the navigation's lookup on any page, land on it, copy it."""

import re

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_paste_a_key_anywhere_and_copy_it(vendor_page, make, vendor):
    studio = make.product(vendor, name="Studio")
    first, second = make.key(studio), make.key(make.product(vendor, name="Player"))
    page = vendor_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("link", name="Customers", exact=True).click()
    lookup = page.get_by_role("search", name="Find a key").get_by_role("searchbox")
    lookup.fill(second.key.lower())
    lookup.press("Enter")
    expect(page.get_by_role("heading", level=1, name=re.compile(f"License key {second.key_number}"))).to_be_visible()
    expect(page.get_by_text("Player", exact=True)).to_be_visible()

    page.get_by_role("button", name="Copy key").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == second.key

    lookup.fill("QQQQ")
    lookup.press("Enter")
    expect(page.get_by_role("status").filter(has_text="No key of yours matches")).to_be_visible()
    assert first.key != second.key
