"""The vendor's brand, terms and account menu in the browser, and the customer's portal wearing the brand."""

import io
import re
import tempfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.support.factories import CUSTOMER_PASSWORD


def png_file(tmp_path) -> str:
    path = tmp_path / "logo.png"
    image = Image.new("RGB", (120, 40), (10, 120, 60))
    out = io.BytesIO()
    image.save(out, "PNG")
    path.write_bytes(out.getvalue())
    return str(path)


@pytest.mark.browser
def test_a_vendor_brands_the_portal_and_sets_terms(vendor_page, new_page, make, vendor, customer, account, tmp_path,
                                                   console_errors):
    page = vendor_page
    # The account menu opens by keyboard and holds the password page.
    menu = page.locator("details.account-menu")
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Change password")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("password")

    page.goto("/vendor/settings")
    page.get_by_role("button", name="Change the look").click()
    page.get_by_label("Accent colour").fill("teal")
    page.get_by_role("button", name="Save the look").click()
    expect(page.locator("#accent_color-error")).to_contain_text("six (or three) hexadecimal digits")
    # The refusal answers 422, which chromium reports on the console.
    console_errors[:] = [error for error in console_errors if "(UNPROCESSABLE ENTITY)" not in error]
    page.get_by_label("Image file").set_input_files(png_file(tmp_path))
    page.get_by_label("Accent colour").fill("#0a783c")
    page.get_by_label("Support e-mail or web address").fill("help@acme.example")
    page.get_by_label("Your website").fill("https://acme.example/")
    page.get_by_role("button", name="Save the look").click()
    expect(page.get_by_text("Your portal's look is saved.")).to_be_visible()
    expect(page.get_by_role("img", name="Your current logo")).to_be_visible()
    page.screenshot(path=f"{tempfile.gettempdir()}/brand_settings.png", full_page=True)

    page.goto("/vendor/settings")
    page.get_by_label("Terms of use").fill("https://acme.example/terms")
    page.get_by_role("button", name="Save terms of use").click()
    expect(page.get_by_role("heading", name="Ask your customers to accept these terms?")).to_be_visible()
    page.get_by_role("button", name="Yes, change the terms").click()
    expect(page.get_by_text("Terms of use saved")).to_be_visible()
    expect(page.locator("#terms")).to_contain_text("0 of 1 customer")

    customer_page = new_page()
    customer_page.set_viewport_size({"width": 390, "height": 844})
    customer_page.goto(f"/Portal/@{vendor.slug}/Login")
    logo = customer_page.locator("header img.brand-logo")
    expect(logo).to_be_visible()
    assert customer_page.evaluate("document.querySelector('header img.brand-logo').naturalWidth") > 0
    button = customer_page.get_by_role("button", name="Log in")
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(10, 120, 60)"
    footer = customer_page.locator("body > footer")
    expect(footer.get_by_role("link", name="help@acme.example")).to_have_attribute("href", "mailto:help@acme.example")
    expect(footer.get_by_role("link", name=re.compile("Back to"))).to_have_attribute("href", "https://acme.example/")
    customer_page.get_by_label("E-mail").fill(account.email)
    customer_page.get_by_label("Password").fill(CUSTOMER_PASSWORD)
    button.click()
    expect(customer_page.get_by_role("heading", name="Terms of use")).to_be_visible()
    customer_page.get_by_role("button", name="I accept the terms of use").click()
    expect(customer_page.get_by_role("heading", name="Terms of use")).to_have_count(0)
    customer_page.wait_for_load_state("load")  # measured once the dashboard's stylesheets are in
    assert customer_page.evaluate("document.documentElement.scrollWidth") <= 390
    customer_page.screenshot(path=f"{tempfile.gettempdir()}/branded_portal_390.png", full_page=True)

    page.reload()
    expect(page.locator("#terms")).to_contain_text("1 of 1 customer")


@pytest.mark.browser
def test_block_key_asks_first(vendor_page, make, vendor, customer):
    key = make.key(make.product(vendor), customer=customer)
    page = vendor_page
    page.goto(f"/vendor/keys/{key.id}")
    block = page.get_by_role("button", name="Block key")
    block.hover()  # a danger button stays red when hovered (Pico turns buttons its primary colour)
    page.wait_for_timeout(500)  # past Pico's transition of the colour
    # Drawn on a canvas, the computed colour (color-mix gives `color(srgb …)`) reads back as plain RGB.
    red, green, blue = block.evaluate("""button => {
        const context = document.createElement("canvas").getContext("2d");
        context.fillStyle = getComputedStyle(button).backgroundColor;
        context.fillRect(0, 0, 1, 1);
        return Array.from(context.getImageData(0, 0, 1, 1).data.slice(0, 3));
    }""")
    assert red > 2 * max(green, blue), (red, green, blue)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Block key").click()
    assert asked and key.key in asked[0]
    expect(page.locator(".status").first).not_to_have_text("Blocked")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Block key").click()
    expect(page.get_by_role("button", name="Unblock key")).to_be_visible()


@pytest.mark.browser
def test_a_refused_setting_far_down_the_page_is_brought_into_view_and_menus_close_on_escape(vendor_page,
                                                                                          console_errors):
    page = vendor_page
    page.goto("/vendor/settings")
    page.get_by_label("Days before expiry").fill("400")
    page.get_by_role("button", name="Save reminders").click()
    wrong = page.get_by_label("Days before expiry")
    expect(wrong).to_be_focused()
    expect(wrong).to_be_in_viewport()
    console_errors[:] = [error for error in console_errors if "(UNPROCESSABLE ENTITY)" not in error]
    expect(page.get_by_role("switch", name="Customer portal is on")).to_be_checked()  # as saved, not as posted
    menu = page.locator("details.account-menu")
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    page.keyboard.press("Escape")
    expect(menu).not_to_have_attribute("open", "")
    expect(menu.locator("summary")).to_be_focused()


@pytest.mark.browser
def test_a_token_is_shown_once_with_the_focus_on_it_and_revoking_asks_first(vendor_page):
    page = vendor_page
    page.goto("/vendor/api-tokens/")
    # A new token may activate, and no more, unless the vendor ticks more: one built into software can be read.
    expect(page.get_by_role("checkbox", name=re.compile(r"Activation \("))).to_be_checked()
    expect(page.get_by_role("checkbox", name=re.compile(r"Keys \("))).not_to_be_checked()
    page.get_by_label("Name").fill("Build server")
    page.get_by_role("button", name="Make token").click()
    expect(page.get_by_label("New access token")).to_be_focused()
    page.reload()  # the page a post redirected to: no second token, and the text is gone
    expect(page.get_by_label("New access token")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Revoke Build server"))).to_have_count(1)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name=re.compile("^Revoke Build server")).click()
    assert asked and "cannot be undone" in asked[0]
    expect(page.get_by_text("revoked")).to_have_count(0)


@pytest.mark.browser
def test_read_only_fields_to_copy_from_show_the_focus_as_other_fields_do(vendor_page):
    """Pico leaves a read-only field without its focus ring: the sign-up link and its HTML are focused visibly."""
    page = vendor_page
    page.goto("/vendor/settings")
    # The ring at once, not mid-fade (through the CSSOM: the page's CSP refuses a style element).
    page.evaluate("document.querySelectorAll('input, textarea').forEach((e) => { e.style.transition = 'none'; })")
    ring = "() => { const s = getComputedStyle(document.activeElement); return [s.boxShadow, s.borderColor]; }"
    page.locator("#reminders input[type=number]").focus()
    focused = page.evaluate(ring)
    page.locator("body").click(position={"x": 1, "y": 1})
    for field in (page.get_by_label("Link", exact=True), page.get_by_label("HTML for your website")):
        expect(field).to_have_attribute("readonly", "")
        unfocused = field.evaluate("e => getComputedStyle(e).boxShadow")
        field.focus()
        assert page.evaluate(ring) == focused and focused[0] != unfocused, (focused, unfocused)
