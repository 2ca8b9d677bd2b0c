"""In chromium, against the stand-in: a customer subscribes, pays on the local Checkout page and sees the key
appear with no reload; cancels at period end in the Billing Portal; a renewal moves the expiry; a declined card
makes nothing. Leaving for Stripe's pages works under the portal's CSP."""

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from portal.billing_models import StripePrice, Subscription
from tests.billing.conftest import app_session, served_app, shop  # noqa: F401 - fixtures, used by name
from tests.browser.clicks import double_click_held
from tests.support.factories import CUSTOMER_PASSWORD
from tests.support.standin import standin_server, stripe_standin  # noqa: F401 - fixtures, used by name

pytestmark = pytest.mark.browser


@pytest.fixture
def customer_page(shop, page, vendor, account):  # noqa: F811 - the fixture imported above
    with app_session(shop.app) as session:
        for price in session.exec(select(StripePrice)).all():
            price.offered = True
            session.add(price)
        session.commit()
    page.goto(f"/Portal/@{vendor.slug}/Login")
    page.get_by_label("E-mail").fill(account.email)
    page.get_by_label("Password").fill(CUSTOMER_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Subscriptions")).to_be_visible()
    return page


def test_subscribe_pay_see_the_key_then_cancel_at_period_end(customer_page, shop, vendor):  # noqa: F811
    tab = customer_page
    tab.get_by_role("button", name="Subscribe to Demo App, Monthly, $9.99 / month").click()
    expect(tab.get_by_text("$9.99 / month")).to_be_visible()  # the stand-in's Checkout page
    tab.get_by_label("Card number").fill("4242 4242 4242 4242")
    tab.get_by_role("button", name="Pay").click()
    expect(tab.get_by_role("heading", name="Thank you for subscribing")).to_be_visible()
    expect(tab.get_by_text("Your license is ready.")).to_be_visible(timeout=15_000)
    key = shop.key()
    expect(tab.locator(f"#license-{key.id}-title")).to_have_text("Demo App")

    tab.get_by_role("link", name="Dashboard", exact=True).click()
    expect(tab.locator("#subscriptions-section").get_by_text("Active", exact=True)).to_be_visible()
    tab.get_by_role("button", name="Manage billing").click()
    tab.get_by_role("button", name="Cancel at period end").click()
    expect(tab.get_by_role("heading", level=1, name="Subscriptions")).to_be_visible()
    # Read from Stripe as the page comes back, before any event about it is handled; the address loses from_billing.
    expect(tab.get_by_text("Your subscriptions are up to date.")).to_be_visible()
    expect(tab.locator("#subscriptions-section").get_by_text(re.compile(r"^Cancels on "))).to_be_visible()
    assert tab.url.endswith("/Subscriptions")
    shop.settle()
    tab.reload()
    record = shop.db.exec(select(Subscription)).one()
    expect(tab.get_by_text(f"Cancels on {record.current_period_end:%Y-%m-%d}")).to_be_visible()


def test_a_renewal_moves_the_expiry_and_a_declined_card_makes_nothing(customer_page, shop, vendor,  # noqa: F811
                                                                     console_errors):
    tab = customer_page
    tab.get_by_role("button", name="Subscribe to Demo App, Monthly, $9.99 / month").click()
    tab.get_by_label("Card number").fill("4242 4242 4242 4242")
    tab.get_by_role("button", name="Pay").click()
    expect(tab.get_by_text("Your license is ready.")).to_be_visible(timeout=15_000)
    before = shop.key().expires
    record = shop.db.exec(select(Subscription)).one()
    shop.standin.advance_subscription(shop.secret_key, record.stripe_subscription_id, outcome="paid")
    shop.settle()
    assert shop.key().expires > before

    tab.goto(f"/Portal/@{vendor.slug}/Subscriptions")
    tab.get_by_role("button", name="Buy a second license: Demo App, Yearly, $99.00 / year").click()
    tab.get_by_label("Card number").fill("4000 0000 0000 0002")
    tab.get_by_role("button", name="Pay").click()
    expect(tab.get_by_text("Your card was declined.")).to_be_visible()
    # The stand-in's page answers a declined card with 402, which chromium reports: that page is Stripe's, not ours.
    console_errors[:] = [error for error in console_errors if "(Payment Required)" not in error]
    shop.settle()
    assert len(shop.keys()) == 1 and len(shop.db.exec(select(Subscription)).all()) == 1


def test_a_failed_read_on_coming_back_from_billing_says_so(customer_page, shop, vendor, console_errors):  # noqa: F811
    tab = customer_page
    tab.route("**/Subscriptions/Refresh", lambda route: route.fulfill(status=503, body="unavailable"))
    tab.goto(f"/Portal/@{vendor.slug}/Subscriptions?from_billing=1")
    expect(tab.get_by_text("Stripe could not be asked just now")).to_be_visible()
    expect(tab.locator("#subscriptions-section")).not_to_have_attribute("aria-busy", "true")
    console_errors[:] = [error for error in console_errors if "503" not in error]


def test_a_double_click_on_subscribe_makes_one_checkout(customer_page, shop):  # noqa: F811
    tab = customer_page
    button = tab.get_by_role("button", name="Subscribe to Demo App, Monthly, $9.99 / month")
    sent = double_click_held(tab, button, "**/Subscriptions/Subscribe")
    expect(tab.get_by_text("$9.99 / month")).to_be_visible()  # the stand-in's Checkout page
    assert sent == 1 and len(shop.stripe.checkout.sessions.list(params={"limit": 100}).data) == 1
    tab.go_back()  # back from Stripe: the button works again
    tab.get_by_role("button", name="Subscribe to Demo App, Monthly, $9.99 / month").click()
    expect(tab.get_by_label("Card number")).to_be_visible()
    assert len(shop.stripe.checkout.sessions.list(params={"limit": 100}).data) == 2
