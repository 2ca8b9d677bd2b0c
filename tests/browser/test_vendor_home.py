"""The vendor's home in the browser: the getting-started list ticks itself as the vendor sets the portal up."""

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
def test_getting_started_ticks_as_the_vendor_goes(vendor_page, make, vendor):
    make.customer(vendor, name="Ada Lovelace")
    page = vendor_page
    page.reload()
    expect(page.get_by_test_id("customer-count").locator("..")).to_have_text("1 customer")
    steps = page.get_by_role("region", name="Getting started").get_by_role("listitem")
    expect(steps).to_have_count(4)
    expect(steps.filter(has_text="Add a product")).to_have_attribute("data-done", "false")
    steps.get_by_role("link", name="Add a product").click()
    page.get_by_label("Name", exact=True).fill("Studio")
    page.get_by_role("button", name="Create product").click()
    page.get_by_role("link", name="Home", exact=True).click()
    expect(steps.filter(has_text="Add a product")).to_have_attribute("data-done", "true")
    expect(steps.filter(has_text="Invite a customer")).to_have_attribute("data-done", "false")
    activity = page.get_by_role("region", name="Latest activity")
    expect(activity.get_by_role("link", name="Studio")).to_be_visible()
    expect(activity.get_by_role("cell", name="Product created")).to_be_visible()
