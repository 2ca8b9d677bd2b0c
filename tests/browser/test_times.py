"""Moments in the viewer's own time zone, in the pages' one format (the day as everywhere, then the time)."""

import re

import pytest
from playwright.sync_api import expect

from tests.support.factories import VENDOR_PASSWORD


@pytest.mark.browser
@pytest.mark.parametrize("locale", ["en-US", "th-TH", "ar-EG"])  # Thai: another calendar; Egyptian Arabic: digits
def test_a_moment_is_shown_in_the_viewers_time_zone_in_the_format_of_the_days_beside_it(browser, live_server, make,
                                                                                        vendor, locale):
    product = make.product(vendor, name="Studio")
    key = make.key(product)
    context = browser.new_context(base_url=live_server, timezone_id="Asia/Tokyo", locale=locale)
    try:
        page = context.new_page()
        page.goto("/vendor/login")
        page.get_by_label("E-mail").fill(make.owner(vendor).email)
        page.get_by_label("Password").fill(VENDOR_PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(f"/vendor/keys/{key.id}")
        created = page.locator("dt:text('Created') + dd time")
        utc = key.created.strftime("%Y-%m-%d %H:%M UTC")
        expect(created).to_have_attribute("title", utc)  # the UTC time stays as the tooltip
        expect(created).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d \S+$"))
        shown = created.text_content()
        assert shown.startswith(f"{key.created.year}-") or shown.startswith(f"{key.created.year + 1}-")
        if locale == "en-US":
            assert shown.endswith(" GMT+9")
        hour = (key.created.hour + 9) % 24  # Tokyo keeps no summer time
        assert shown.split()[1].startswith(f"{hour:02d}:")
    finally:
        context.close()
