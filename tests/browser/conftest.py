"""Browser fixtures: the test app served on loopback, Debian's chromium, and pages that fail on console errors."""

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.support.factories import VENDOR_PASSWORD
from tests.support.live import served

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# Chromium reports CSP violations on the console too; this makes sure each one is named, whatever the message.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


def _is_error(message) -> bool:
    # The app serves no /favicon.ico; chromium's automatic request for it is not a page's error.
    return message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")


@pytest.fixture
def live_server(app):
    """The function's `app` served over HTTP on 127.0.0.1; yields its base URL."""
    with served(app) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_errors():
    """Console errors, uncaught exceptions and CSP violations of every page of the test."""
    return []


@pytest.fixture
def new_page(browser, live_server, console_errors):
    """Open a page in a fresh browser context (no cookies shared), as a second person on another machine."""
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server)
        context.set_default_timeout(5_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: _is_error(message) and console_errors.append(
            f"{page.url}: {message.text}"))
        page.on("pageerror", lambda error: console_errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert console_errors == [], "the browser reported errors: " + " | ".join(console_errors)


@pytest.fixture
def page(new_page):
    return new_page()


@pytest.fixture
def vendor_page(page, make, vendor):
    """`page`, logged in to `vendor`'s dashboard through the login form."""
    email = make.owner(vendor).email
    page.goto("/vendor/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(VENDOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1, name=vendor.name)).to_be_visible()
    return page
