"""The customer search narrows the list as the vendor types, without a page load, and keeps the query in the URL."""

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_customer_search_updates_as_you_type(vendor_page, make, vendor, live_server):
    for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing"):
        make.customer(vendor, name=name)
    page = vendor_page
    page.get_by_role("link", name="Customers", exact=True).click()
    results = page.get_by_role("main")
    for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing"):
        expect(results.get_by_role("link", name=name)).to_be_visible()
    page.wait_for_load_state()  # htmx wires up the search box once the page has loaded
    page.evaluate("window.stillTheSamePage = true")

    search = page.get_by_role("searchbox", name="Search customers")
    search.press_sequentially("gra")
    expect(page).to_have_url(f"{live_server}/vendor/customers/?q=gra")
    expect(results.get_by_role("link", name="Grace Hopper")).to_be_visible()
    expect(results.get_by_role("link")).to_have_count(1)

    search.press("Control+a")
    search.press_sequentially("nobody")
    expect(results).to_contain_text("No customer matches nobody")
    expect(page).to_have_url(f"{live_server}/vendor/customers/?q=nobody")
    assert page.evaluate("window.stillTheSamePage") is True
