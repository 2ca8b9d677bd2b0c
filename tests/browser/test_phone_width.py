"""Every vendor page, and the customer's portal, on a phone 390 px wide: nothing scrolls sideways but a table inside
its own box."""

import pytest
from flask import url_for
from playwright.sync_api import expect

from portal.keys import services as keys
from portal.models import Customer
from tests.support.factories import CUSTOMER_PASSWORD

PHONE = {"width": 390, "height": 844}
# A page's width beyond the viewport, and each element that sticks out (a wide table scrolls in its own box).
MEASURE = """() => ({
  width: document.documentElement.scrollWidth,
  wide: [...document.querySelectorAll("body *")].filter((e) => {
    const box = e.getBoundingClientRect();
    return box.right > window.innerWidth + 1 && !e.closest(".table-scroll, table");
  }).slice(0, 5).map((e) => e.tagName + "." + e.className + " " + (e.textContent || "").trim().slice(0, 40)),
})"""


def vendor_pages(app, world) -> list[str]:
    """Each page of the dashboard a vendor can open, with the world's records in them."""
    own = world.own
    with app.test_request_context():
        return [url_for(endpoint, **values) for endpoint, values in [
            ("vendors.home", {}), ("vendors.settings", {}), ("vendors.password", {}),
            ("branding.edit", {}), ("terms_settings.edit", {}), ("billing.stripe_settings", {}),
            ("customers.index", {}), ("customers.new", {}), ("customers.show", {"customer_id": own["customer_id"]}),
            ("customers.edit", {"customer_id": own["customer_id"]}),
            ("customers.delete", {"customer_id": own["customer_id"]}),
            ("products.index", {}), ("products.new", {}), ("products.show", {"product_id": own["product_id"]}),
            ("products.edit", {"product_id": own["product_id"]}),
            ("products.delete", {"product_id": own["product_id"]}),
            ("billing.link_price", {"product_id": own["product_id"]}),
            ("billing.new_price", {"product_id": own["product_id"]}),
            ("billing.price_settings", {"product_id": own["product_id"], "price_id": own["price_id"]}),
            ("keys.new", {}), ("keys.bulk", {}), ("keys.batch", {"batch_id": own["batch_id"]}),
            ("keys.show", {"key_id": own["key_id"]}), ("keys.delete", {"key_id": own["key_id"]}),
            ("subscriptions_admin.index", {}), ("subscriptions_admin.attention", {}),
            ("subscriptions_admin.attach", {"subscription_id": own["subscription_id"]}),
            ("dataobjects.index", {}), ("dataobjects.edit", {"object_id": own["object_id"]}),
            ("dataobjects.owned", {"owner_type": "key", "owner_id": own["key_id"]}),
            ("api_tokens.index", {}),
        ]] + [NOT_FOUND]


NOT_FOUND = "/vendor/no-such-page"


@pytest.mark.browser
def test_no_vendor_page_scrolls_sideways_at_390_px(app, world, vendor_page, console_errors, db):
    customer = db.get(Customer, world.own["customer_id"])
    customer.name = "L" * 100  # typed without a space, it wraps rather than widening the page
    db.add(customer)
    db.commit()
    vendor_page.set_viewport_size(PHONE)
    too_wide = {}
    for path in vendor_pages(app, world):
        vendor_page.goto(path, wait_until="domcontentloaded")  # after the stylesheets, which deferred scripts await
        measured = vendor_page.evaluate(MEASURE)
        if measured["width"] > PHONE["width"]:
            too_wide[path] = measured
    assert too_wide == {}
    # The 404 page answers 404 (which chromium reports on the console), in the dashboard's layout.
    expect(vendor_page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(vendor_page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers")).to_be_visible()
    console_errors[:] = [error for error in console_errors if not (NOT_FOUND in error and "404" in error)]


@pytest.mark.browser
def test_the_customer_portal_fits_390_px(new_page, make, vendor, customer, account, db):
    # The official client's machine code is 64 hexadecimal digits, with nowhere to break; shown as it is when the
    # machine has no friendly name.
    key = make.key(make.product(vendor), customer=customer)
    for mid in ("0123456789abcdef" * 4, "f" * 180):
        keys.activate_machine(db, key=key, mid=mid, actor="test")
    db.commit()
    page = new_page()
    page.set_viewport_size(PHONE)
    page.goto(f"/Portal/@{vendor.slug}/Login")
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Password").fill(CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Licenses")).to_be_visible()
    too_wide = {}
    for path in ("", "Subscriptions", "ChangePassword"):
        page.goto(f"/Portal/@{vendor.slug}/{path}", wait_until="domcontentloaded")
        measured = page.evaluate(MEASURE)
        if measured["width"] > PHONE["width"]:
            too_wide[path or "dashboard"] = measured
    assert too_wide == {}


@pytest.mark.browser
def test_a_key_and_the_data_objects_of_a_product_with_its_configurations_fit_390_px(vendor_page, make, vendor, db):
    from portal.dataobjects.services import PRODUCT, add_object

    product = make.product(vendor)
    for name, text in (("cryptolens_trialactivation", "first_activation"),
                       ("cryptolens_unblockextendedlicenses", "true"),
                       ("cryptolens_dobjreset", '[{"Name": "credits", "Freq": 1, "Default": 5}]')):
        add_object(db, vendor_id=vendor.id, name=name, string_value=text, referencer_type=PRODUCT,
                   referencer_id=product.id, actor="test")
    db.commit()
    key = make.key(product, trial_activation=True, max_no_of_machines=2)
    vendor_page.set_viewport_size(PHONE)
    too_wide = {}
    for path in (f"/vendor/keys/{key.id}", f"/vendor/data-objects/product/{product.id}"):
        vendor_page.goto(path, wait_until="domcontentloaded")
        if "data-objects" in path:  # the list of configurations, unfolded
            vendor_page.get_by_text("Names that change how this product's keys behave").click()
        measured = vendor_page.evaluate(MEASURE)
        if measured["width"] > PHONE["width"]:
            too_wide[path] = measured
    assert too_wide == {}


@pytest.mark.browser
def test_tables_that_matter_are_read_as_lines_on_a_phone_not_scrolled_sideways(app, world, vendor_page, vendor, db):
    from portal.billing_models import StripeConnection

    db.add(StripeConnection(vendor_id=vendor.id))  # the subscription list shows the connection's
    db.commit()
    vendor_page.set_viewport_size({"width": 375, "height": 800})
    checked = []
    with app.test_request_context():
        customer = url_for("customers.show", customer_id=world.own["customer_id"])
        product = url_for("products.show", product_id=world.own["product_id"])
    # The lists a vendor reads most: each cell of theirs says what it is (its column's heading is hidden).
    labelled = {"/vendor/subscriptions/", "/vendor/customers/", product}
    for path, table in (("/vendor/", "table.history"), ("/vendor/activity/", "table.history"),
                        ("/vendor/api-tokens/", "table"), ("/vendor/subscriptions/attention", "table"),
                        (customer, "table"), ("/vendor/subscriptions/", "table"),
                        ("/vendor/customers/", "#customer-results table"), (product, "#key-results table")):
        vendor_page.goto(path, wait_until="domcontentloaded")
        rows = vendor_page.locator(f"{table} tbody tr")
        if not rows.count():
            assert path not in labelled, path
            continue
        checked.append(path)
        cells = rows.first.locator("td")
        expect(cells.first).to_be_visible()
        for n in range(cells.count()):
            box = cells.nth(n).bounding_box()
            if box is None:  # an empty cell (no company, no features) is no line of its own
                assert cells.nth(n).inner_text() == "", (path, n)
                continue
            assert box["x"] >= 0 and box["x"] + box["width"] <= 375 + 1, (path, n, box)
        assert cells.first.bounding_box()["height"] < 100  # no row stretched tall by a squeezed column
        if path in labelled:
            assert cells.evaluate_all("cells => cells.filter((c) => !c.dataset.label).length") == 0, path
    assert len(checked) >= 7, checked


@pytest.mark.browser
def test_the_customer_search_says_in_full_what_it_searches_at_375_px(vendor_page):
    vendor_page.set_viewport_size({"width": 375, "height": 800})
    vendor_page.goto("/vendor/customers/", wait_until="domcontentloaded")
    search = vendor_page.get_by_role("searchbox", name="Search customers")
    fits = search.evaluate("""(input) => {
      const style = getComputedStyle(input), pen = document.createElement("canvas").getContext("2d");
      pen.font = style.font;
      return pen.measureText(input.placeholder).width
        <= input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    }""")
    assert fits, search.get_attribute("placeholder")
    hint = vendor_page.locator("#" + search.get_attribute("aria-describedby"))
    expect(hint).to_have_text("By id, e-mail, @domain, name, company, secret, whole license key or Stripe customer "
                              "(cus_…)")
    box = hint.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375 + 1, box
