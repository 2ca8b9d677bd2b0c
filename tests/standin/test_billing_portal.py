"""Billing Portal: sessions and configurations through the SDK, and the local page's buttons with their events."""

import re
import time

import pytest
import requests
import stripe

from devtools.stripe_standin.errors import Refused

RETURN = "http://127.0.0.1:5000/account"


@pytest.fixture
def subscribed(sdk, catalog):
    """The catalog's customer (named Ann) on Pro monthly ($10.00), with Pro yearly and Pro weekly on offer, and
    a Basic product whose price the default configuration does not offer."""
    product, monthly, customer = catalog
    sdk.v1.customers.update(customer.id, params={"name": "Ann Example"})
    yearly, weekly = (
        sdk.v1.prices.create(params={"product": product.id, "nickname": nickname, "unit_amount": amount,
                                     "currency": "usd", "recurring": {"interval": interval}})
        for nickname, amount, interval in (("Yearly", 10000, "year"), ("Weekly", 300, "week"))
    )
    sdk.v1.prices.create(params={"product_data": {"name": "Basic"}, "unit_amount": 100, "currency": "usd",
                                 "recurring": {"interval": "month"}})
    subscription = sdk.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": monthly.id}]})
    return customer, subscription, yearly, weekly


def _portal(sdk, customer, **params):
    return sdk.v1.billing_portal.sessions.create(params={"customer": customer.id, "return_url": RETURN, **params})


def _buttons(html: str) -> list[str]:
    return re.findall(r'<button type="submit"[^>]*>([^<]*)</button>', html)


def _press(session, subscription_id, action, price=None):
    form = {"session": session.id, "subscription": subscription_id, "action": action}
    if price:
        form["price"] = price
    return requests.post(session.url, data=form, allow_redirects=False, timeout=5)


def _last_event(sdk):
    return sdk.v1.events.list(params={"limit": 1}).data[0]


def test_a_session_has_stripes_shape_and_the_default_configuration(stripe_standin, sdk, subscribed):
    customer = subscribed[0]

    session = _portal(sdk, customer)
    configuration = sdk.v1.billing_portal.configurations.retrieve(session.configuration)

    assert session.id.startswith("bps_") and session.object == "billing_portal.session"
    assert session.url == f"{stripe_standin.url}/billing/{session.id}"
    assert (session.customer, session.return_url, session.livemode) == (customer.id, RETURN, False)
    assert configuration.id.startswith("bpc_") and configuration.is_default
    assert configuration.features.subscription_cancel.enabled and configuration.features.subscription_update.enabled
    assert "_any_cancel_mode" not in configuration.to_dict()
    assert _last_event(sdk).type == "billing_portal.session.created"
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.billing_portal.sessions.create(params={"customer": customer.id})  # no return_url anywhere


def test_the_page_lists_the_subscription_and_its_buttons(sdk, subscribed):
    customer, subscription, _, _ = subscribed

    page = requests.get(_portal(sdk, customer).url, timeout=5)

    assert page.status_code == 200 and "<script" not in page.text
    assert "Ann Example · ann@example.com" in page.text
    assert "<h3" in page.text and ">Pro</h3>" in page.text and "$10.00 / month" in page.text
    assert "Status: Active" in page.text and "Current period ends on " in page.text
    assert _buttons(page.text) == ["Cancel at period end", "Cancel now", "Switch to Pro – Yearly ($100.00 / year)",
                                   "Switch to Pro – Weekly ($3.00 / week)"]
    assert f'name="subscription" value="{subscription.id}"' in page.text
    assert f'<a href="{RETURN}">Return to 127.0.0.1:5000</a>' in page.text


def test_cancel_at_period_end_then_resume_then_cancel_now(stripe_standin, sdk, acme, subscribed, receiver):
    customer, subscription, _, _ = subscribed
    session = _portal(sdk, customer)
    stripe_standin.register_webhook(acme.secret_key, receiver.url, "whsec_portal")

    at_end = _press(session, subscription.id, "cancel_at_period_end")
    event = _last_event(sdk)
    page = requests.get(session.url, timeout=5).text

    assert at_end.status_code == 303 and at_end.headers["Location"] == RETURN
    assert event.type == "customer.subscription.updated"
    assert event.data.object.cancel_at_period_end is True
    assert event.data.previous_attributes["cancel_at_period_end"] is False
    assert "Cancels on " in page and _buttons(page)[:2] == ["Cancel now", "Resume"]

    resumed = _press(session, subscription.id, "resume")
    event = _last_event(sdk)
    assert resumed.status_code == 303 and event.data.previous_attributes["cancel_at_period_end"] is True
    assert sdk.v1.subscriptions.retrieve(subscription.id).cancel_at_period_end is False

    canceled = _press(session, subscription.id, "cancel_now")
    stripe_standin.wait_idle()
    assert canceled.status_code == 303 and _last_event(sdk).type == "customer.subscription.deleted"
    assert sdk.v1.subscriptions.retrieve(subscription.id).status == "canceled"
    assert receiver.types == ["customer.subscription.updated", "customer.subscription.updated",
                              "customer.subscription.deleted"]
    page = requests.get(session.url, timeout=5).text
    assert "You have no current subscriptions." in page and _buttons(page) == []


def test_switch_changes_the_items_price(stripe_standin, sdk, acme, subscribed):
    customer, subscription, yearly, _ = subscribed
    session = _portal(sdk, customer)
    item = subscription["items"]["data"][0]

    answer = _press(session, subscription.id, "switch", yearly.id)
    event = _last_event(sdk)

    assert answer.status_code == 303
    switched = sdk.v1.subscriptions.retrieve(subscription.id)
    assert switched["items"]["data"][0]["id"] == item["id"]
    assert switched["items"]["data"][0]["price"]["id"] == yearly.id
    assert event.type == "customer.subscription.updated"
    assert event.data.previous_attributes["items"]["data"][0]["price"]["id"] == item["price"]["id"]
    assert "Switch to Pro ($10.00 / month)" in _buttons(requests.get(session.url, timeout=5).text)
    assert stripe_standin.billing_action(acme.secret_key, session.id, subscription.id, "switch",
                                         item["price"]["id"]) == RETURN
    assert sdk.v1.subscriptions.retrieve(subscription.id)["items"]["data"][0]["price"]["id"] == item["price"]["id"]


def test_a_switch_to_another_interval_starts_a_period_of_it_now_and_charges_it(stripe_standin, sdk, acme, subscribed):
    """As Stripe resets the billing cycle anchor: a monthly subscription switched to yearly runs a year from now
    (it kept the month's end, the newcomer's try found), and the year is invoiced and paid at once."""
    customer, subscription, yearly, _ = subscribed
    month_end = subscription["items"]["data"][0]["current_period_end"]
    before = time.time()
    _press(_portal(sdk, customer), subscription.id, "switch", yearly.id)
    switched = sdk.v1.subscriptions.retrieve(subscription.id)["items"]["data"][0]
    assert switched["current_period_start"] >= int(before) and switched["current_period_end"] > month_end + 300 * 86400
    invoice = sdk.v1.invoices.list(params={"subscription": subscription.id, "limit": 1}).data[0]
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == ("subscription_update", "paid",
                                                                             yearly.unit_amount)
    assert sdk.v1.subscriptions.retrieve(subscription.id).status == "active"


def test_a_configuration_restricts_the_buttons(stripe_standin, sdk, acme, subscribed):
    customer, subscription, yearly, weekly = subscribed
    product = yearly.product
    configuration = sdk.v1.billing_portal.configurations.create(params={
        "business_profile": {"headline": "Acme billing"},
        "default_return_url": RETURN,
        "features": {
            "subscription_cancel": {"enabled": True, "mode": "immediately"},
            "subscription_update": {"enabled": True, "default_allowed_updates": ["price"],
                                    "products": [{"product": product, "prices": [yearly.id]}]},
        },
    })
    session = sdk.v1.billing_portal.sessions.create(params={"customer": customer.id,
                                                            "configuration": configuration.id})

    page = requests.get(session.url, timeout=5).text
    refused = _press(session, subscription.id, "switch", weekly.id)

    assert configuration.id.startswith("bpc_") and not configuration.is_default
    assert configuration.features.subscription_update.products[0].prices == [yearly.id]
    assert session.return_url == RETURN and "Acme billing" in page
    assert _buttons(page) == ["Cancel now", "Switch to Pro – Yearly ($100.00 / year)"]
    assert refused.status_code == 400 and "not available" in refused.text
    with pytest.raises(Refused):
        stripe_standin.billing_action(acme.secret_key, session.id, subscription.id, "cancel_at_period_end")

    sdk.v1.billing_portal.configurations.update(
        configuration.id, params={"features": {"subscription_update": {"enabled": False}}}
    )
    assert _buttons(requests.get(session.url, timeout=5).text) == ["Cancel now"]
    assert _last_event(sdk).type == "billing_portal.configuration.updated"


def test_another_customers_subscription_is_refused(stripe_standin, sdk, acme, subscribed):
    customer, subscription, _, _ = subscribed
    other = sdk.v1.customers.create(params={"email": "eve@example.com"})
    session = _portal(sdk, other)

    answer = _press(session, subscription.id, "cancel_now")

    assert answer.status_code == 404
    assert sdk.v1.subscriptions.retrieve(subscription.id).status == "active"
    with pytest.raises(Refused):
        stripe_standin.billing_action(acme.secret_key, session.id, subscription.id, "cancel_now")


def test_a_subscription_ending_at_its_period_switched_to_another_interval_ends_with_the_new_period(sdk, subscribed):
    _customer, subscription, yearly, _ = subscribed
    sdk.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    item = subscription["items"]["data"][0]["id"]
    switched = sdk.v1.subscriptions.update(subscription.id, params={"items": [{"id": item, "price": yearly.id}]})
    assert switched.cancel_at_period_end and switched.cancel_at == switched["items"]["data"][0]["current_period_end"]
