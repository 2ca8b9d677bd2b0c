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


def _contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two `rgb(...)` colours."""
    def luminance(colour: str) -> float:
        channels = [int(part) / 255 for part in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.browser
def test_the_keyboards_focus_shows_on_a_solid_button_against_the_page(page, vendor):
    """Pico gives a solid button a white --pico-color: an outline in it, around the button on a white page, hid."""
    page.goto(f"/Portal/@{vendor.slug}/Login")
    button = page.get_by_role("button", name="Log in")
    for _ in range(10):
        if button.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(button).to_be_focused()
    outline = button.evaluate("element => [getComputedStyle(element).outlineStyle,"
                              " getComputedStyle(element).outlineColor]")
    background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert outline[0] == "solid" and _contrast(outline[1], background) >= 3, (outline, background)
