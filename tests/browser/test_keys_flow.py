"""License keys in the browser: a vendor issues, finds and blocks a key; a customer reveals it and frees a machine."""

import re
import tempfile

import pytest
from playwright.sync_api import expect

from tests.browser.clicks import double_click_held
from tests.support.factories import CUSTOMER_PASSWORD

SCREENSHOTS = tempfile.gettempdir()  # screenshots of the pages, to look at after a run


@pytest.mark.browser
def test_vendor_creates_finds_and_blocks_a_key(vendor_page, make, vendor, live_server):
    make.customer(vendor, name="Grace Hopper", email="grace@example.test")
    make.customer(vendor, name="Alan Turing", email="alan@example.test")
    page = vendor_page

    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_role("button", name="New product").click()
    page.get_by_label("Name", exact=True).fill("Photo Editor")
    page.get_by_label("F1 name").fill("Pro")
    page.get_by_label("F2 name").fill("Export")
    page.get_by_role("button", name="Create product").click()
    expect(page.get_by_role("heading", level=1, name="Photo Editor")).to_be_visible()
    product_url = page.url

    page.get_by_role("button", name="New key").click()
    expect(page.get_by_role("heading", level=1, name="New license key")).to_be_visible()
    page.wait_for_load_state()  # htmx wires up the customer picker once the page has loaded
    picker = page.get_by_role("group", name="Customer")
    picker.get_by_role("searchbox", name="Find a customer").press_sequentially("hopp")
    grace = picker.get_by_role("radio", name="Grace Hopper")
    expect(grace).to_be_visible()
    expect(picker.get_by_role("radio", name="Alan Turing")).to_have_count(0)
    # Pico styles the "#id" <small> after the radio as a block that overlaps the radio, so click the name, as a
    # person would; the label checks its radio either way.
    picker.get_by_text("Grace Hopper").click()
    expect(grace).to_be_checked()
    page.get_by_role("group", name="Features").get_by_label("Pro").check()
    page.get_by_role("button", name="Create key").click()

    key_text = page.locator("hgroup code.key-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z]{5}(-[A-Z]{5}){3}", key_text), key_text
    found = re.search(r"\bID (\d+)\b", page.get_by_text("GlobalId").inner_text())
    assert found, "the key page shows the key's ID"
    key_id = found.group(1)
    expect(page.get_by_role("definition").filter(has_text="Grace Hopper")).to_be_visible()
    expect(page.get_by_role("definition").filter(has_text="Pro")).to_be_visible()
    expect(page.locator(".status")).to_have_text("Active")
    page.screenshot(path=f"{SCREENSHOTS}/keys_flow_key_page.png", full_page=True)

    page.get_by_role("link", name="Photo Editor").click()
    expect(page).to_have_url(product_url)
    page.wait_for_load_state()
    page.evaluate("window.stillTheSamePage = true")
    results = page.locator("#key-results")
    search = page.get_by_role("searchbox", name="Search keys")
    search.press_sequentially(f"Id={key_id}")
    expect(page).to_have_url(f"{product_url}?q=Id%3D{key_id}")
    rows = results.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("link", name=key_text)).to_be_visible()
    expect(rows.get_by_role("cell").first).to_have_text(key_id)
    page.screenshot(path=f"{SCREENSHOTS}/keys_flow_product_page.png", full_page=True)

    search.press("Control+a")
    search.press_sequentially("id=")
    expect(page).to_have_url(f"{product_url}?q=id%3D")
    error = results.get_by_role("alert")
    expect(error).to_be_visible()
    expect(error).to_contain_text("at character 4")
    expect(results.locator(".query-pointer")).to_have_text("id=\n   ^")
    expect(page.get_by_text("Internal Server Error")).to_have_count(0)
    assert page.evaluate("window.stillTheSamePage") is True
    page.screenshot(path=f"{SCREENSHOTS}/keys_flow_query_error.png", full_page=True)

    search.press("Control+a")
    search.press_sequentially(f"Id={key_id}")
    rows.get_by_role("link", name=key_text).click()
    expect(page.get_by_role("heading", level=1, name=f"License key {key_id}")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())  # "Block key …?" asks first
    page.get_by_role("button", name="Block key").click()
    expect(page.locator(".status")).to_have_text("Blocked")
    expect(page.get_by_role("button", name="Unblock key")).to_be_visible()


@pytest.mark.browser
def test_customer_reveals_key_and_deactivates_a_machine(page, make, vendor, live_server):
    product = make.product(vendor, name="Photo Editor", f1_name="Pro")
    customer = make.customer(vendor, name="Ada Lovelace", allow_activation_management=True)
    account = make.account(vendor, customer, email="ada@example.test")
    key = make.key(product, customer=customer, f1=True, max_no_of_machines=3, machines=("laptop-1", "desktop-2"))

    page.goto(f"/Portal/@{vendor.slug}/Login")
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Password").fill(CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name="Ada Lovelace")).to_be_visible()

    card = page.get_by_role("article", name="Photo Editor")
    expect(card).to_be_visible()
    expect(card).to_contain_text(key.key[:5])
    expect(card).to_contain_text(key.key[-5:])
    expect(page.locator("body")).not_to_contain_text(key.key)
    expect(card.get_by_role("definition").filter(has_text="Pro")).to_be_visible()
    expect(card).to_contain_text("2 of 3")
    machines = card.get_by_role("row").filter(has=page.get_by_role("cell"))
    expect(machines).to_have_count(2)
    page.screenshot(path=f"{SCREENSHOTS}/keys_flow_dashboard.png", full_page=True)

    page.wait_for_load_state()  # htmx wires up the buttons once the page has loaded
    card.get_by_role("button", name="Reveal").focus()
    page.keyboard.press("Enter")  # by keyboard: the focus goes on to the Copy button that comes with the key
    expect(card.get_by_text(key.key, exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Reveal")).to_have_count(0)
    expect(card.get_by_role("button", name="Copy")).to_be_focused()
    page.screenshot(path=f"{SCREENSHOTS}/keys_flow_dashboard_revealed.png", full_page=True)

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    machines.filter(has_text="laptop-1").get_by_role("button", name="Deactivate").click()
    expect(machines.filter(has_text="laptop-1")).to_have_count(0)
    expect(machines).to_have_count(1)
    expect(machines.filter(has_text="desktop-2")).to_be_visible()
    expect(card).to_contain_text("1 of 3")
    assert len(dialogs) == 1 and "laptop-1" in dialogs[0], dialogs
    page.screenshot(path=f"{SCREENSHOTS}/keys_flow_dashboard_after.png", full_page=True)

    page.reload()
    expect(machines).to_have_count(1)
    expect(machines.filter(has_text="desktop-2")).to_be_visible()


@pytest.mark.browser
def test_a_double_click_on_create_makes_one_product(vendor_page, vendor, db):
    from sqlmodel import select

    from portal.models import Product

    page = vendor_page
    page.goto("/vendor/products/new")
    page.get_by_label("Name", exact=True).fill("Photo Editor")
    sent = double_click_held(page, page.get_by_role("button", name="Create product"), "**/vendor/products/new")
    expect(page.get_by_role("heading", level=1, name="Photo Editor")).to_be_visible()
    assert sent == 1 and db.exec(select(Product.name).where(Product.vendor_id == vendor.id)).all() == ["Photo Editor"]
