"""Checkout Sessions (subscription mode): the API's shapes, the local payment page, and what paying sends."""

import json
import re

import pytest
import requests
import stripe

from devtools.stripe_standin.errors import Refused

SECRET = "whsec_checkout"
SUCCESS = "http://127.0.0.1:5000/done?session_id={CHECKOUT_SESSION_ID}"
CANCEL = "http://127.0.0.1:5000/plans"
PAID_EVENTS = ["customer.subscription.created", "invoice.created", "invoice.finalized", "invoice.paid",
               "invoice.payment_succeeded", "checkout.session.completed"]


@pytest.fixture
def plans(sdk):
    """Pro with a monthly ($9.00) and a yearly ($90.00) price."""
    product = sdk.v1.products.create(params={"name": "Pro", "metadata": {"skm_product_id": "5"}})
    monthly, yearly = (
        sdk.v1.prices.create(params={"product": product.id, "nickname": nickname, "unit_amount": amount,
                                     "currency": "usd", "recurring": {"interval": interval}})
        for nickname, amount, interval in (("Monthly", 900, "month"), ("Yearly", 9000, "year"))
    )
    return product, monthly, yearly


def _session(sdk, price, **params):
    base = {"mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}], "success_url": SUCCESS,
            "cancel_url": CANCEL, "subscription_data": {"metadata": {"skm_temp_var": "placeholder"}}}
    return sdk.v1.checkout.sessions.create(params={**base, **params})


def _types(sdk) -> list[str]:
    return [event.type for event in reversed(sdk.v1.events.list(params={"limit": 100}).data)]


def test_a_session_has_stripes_shape(stripe_standin, sdk, plans, catalog):
    _, monthly, _ = plans
    customer = catalog[2]

    session = _session(sdk, monthly, customer=customer.id, client_reference_id="user-7", metadata={"order": "1"},
                       allow_promotion_codes=True)
    found = sdk.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items", "customer"]})

    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert session.url == f"{stripe_standin.url}/checkout/{session.id}"
    assert (session.status, session.payment_status, session.mode) == ("open", "unpaid", "subscription")
    assert (session.amount_total, session.currency, session.livemode) == (900, "usd", False)
    assert session.subscription is None and session.customer == customer.id and session.customer_email is None
    assert session.success_url == SUCCESS and session.cancel_url == CANCEL
    assert session.client_reference_id == "user-7" and session.metadata.to_dict() == {"order": "1"}
    assert session.expires_at == session.created + 86400
    assert "line_items" not in session and "_line_items" not in session.to_dict()
    assert found.customer.email == "ann@example.com"
    assert found.line_items.data[0].price.id == monthly.id and found.line_items.data[0].quantity == 1
    listed = sdk.v1.checkout.sessions.list(params={"customer": customer.id})
    assert [s.id for s in listed.data] == [session.id]


def test_stripes_refusals(sdk, plans, catalog):
    _, monthly, _ = plans
    refusals = [
        {"mode": "payment"},
        {"customer": catalog[2].id, "customer_email": "ann@example.com"},
        {"subscription_data": {"trial_days": 3}},
        {"success_url": "javascript:alert(1)"},
        {"line_items": [{"price": "price_nope"}]},
    ]
    for params in refusals:
        with pytest.raises(stripe.InvalidRequestError):
            _session(sdk, monthly, **params)


def test_the_page_shows_the_plan_a_labelled_card_field_and_pay(sdk, plans):
    _, monthly, _ = plans
    session = _session(sdk, monthly, customer_email="ann@example.com", subscription_data={"trial_period_days": 14})

    page = requests.get(session.url, timeout=5)

    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Pro – Monthly" in page.text and "$9.00 / month" in page.text and "14-day free trial" in page.text
    assert '<label for="card_number">Card number</label>' in page.text
    assert re.search(r'<input id="card_number" name="card_number"', page.text)
    assert '<button type="submit">Start trial</button>' in page.text  # as Stripe's page says with a trial
    assert f'<a href="{CANCEL}">Cancel</a>' in page.text
    without_trial = requests.get(_session(sdk, monthly, customer_email="ann@example.com").url, timeout=5)
    assert '<button type="submit">Pay</button>' in without_trial.text
    assert "<script" not in page.text
    assert requests.get(session.url + "x", timeout=5).status_code == 404


def test_4242_pays_sends_stripes_events_and_redirects(stripe_standin, sdk, acme, plans, receiver):
    _, monthly, _ = plans
    stripe_standin.register_webhook(acme.secret_key, receiver.url, SECRET)
    session = _session(sdk, monthly, customer_email="bob@example.com")

    answer = requests.post(session.url, data={"card_number": "4242 4242 4242 4242"}, allow_redirects=False,
                           timeout=5)
    stripe_standin.wait_idle()

    assert answer.status_code == 303
    assert answer.headers["Location"] == f"http://127.0.0.1:5000/done?session_id={session.id}"
    done = sdk.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription"]})
    assert (done.status, done.payment_status) == ("complete", "paid")
    subscription = done.subscription
    assert subscription.status == "active" and subscription.metadata.to_dict() == {"skm_temp_var": "placeholder"}
    assert subscription.default_payment_method == "pm_card_visa" and subscription.customer == done.customer
    assert done.invoice == subscription.latest_invoice
    customer = sdk.v1.customers.retrieve(done.customer)
    assert customer.email == "bob@example.com"
    assert customer.invoice_settings.default_payment_method == "pm_card_visa"
    assert receiver.types == ["customer.created", *PAID_EVENTS]
    events = [stripe.Webhook.construct_event(body, signature, SECRET) for body, signature in receiver.received]
    completed = events[-1].data.object
    assert (completed.id, completed.subscription, completed.customer) == (session.id, subscription.id, customer.id)
    assert completed.status == "complete"


def test_a_trial_completes_without_payment(stripe_standin, sdk, acme, plans, catalog):
    _, monthly, _ = plans

    session = _session(sdk, monthly, customer=catalog[2].id, subscription_data={"trial_period_days": 14})
    stripe_standin.pay_checkout(acme.secret_key, session.id)

    done = sdk.v1.checkout.sessions.retrieve(session.id, params={"expand": ["subscription.latest_invoice"]})
    assert (session.amount_total, done.payment_status) == (0, "no_payment_required")
    assert done.subscription.status == "trialing"
    assert done.subscription.latest_invoice.amount_paid == 0 and done.subscription.latest_invoice.status == "paid"
    assert _types(sdk)[-6:] == PAID_EVENTS  # an existing customer: no customer.created


def test_0002_is_declined_and_the_session_stays_open(stripe_standin, sdk, acme, plans):
    _, monthly, _ = plans
    session = _session(sdk, monthly, customer_email="bob@example.com")
    before = _types(sdk)

    page = requests.post(session.url, data={"card_number": "4000 0000 0000 0002"}, allow_redirects=False, timeout=5)

    assert page.status_code == 402
    assert re.search(r'aria-invalid="true" aria-describedby="card_number-error">\s*'
                     r'<p id="card_number-error" class="error" role="alert">Your card was declined.</p>', page.text)
    assert sdk.v1.checkout.sessions.retrieve(session.id).status == "open"
    assert sdk.v1.subscriptions.list(params={"status": "all"}).data == []
    assert _types(sdk) == before
    with pytest.raises(Refused) as refused:
        stripe_standin.pay_checkout(acme.secret_key, session.id, card="4000000000000002")
    assert refused.value.status == 402


@pytest.mark.parametrize(
    ("number", "message"),
    [("4242", "Your card number is incomplete."), ("", "Your card number is incomplete."),
     ("4242 4242 4242 4241", "Your card number is invalid."), ("abcd", "Your card number is invalid.")],
)
def test_other_numbers_are_refused(sdk, plans, number, message):
    session = _session(sdk, plans[1], customer_email="bob@example.com")

    page = requests.post(session.url, data={"card_number": number}, allow_redirects=False, timeout=5)

    assert page.status_code == 400 and f'role="alert">{message}</p>' in page.text


def test_0341_pays_now_and_fails_at_renewal(stripe_standin, sdk, acme, plans):
    session = _session(sdk, plans[1], customer_email="bob@example.com")

    stripe_standin.pay_checkout(acme.secret_key, session.id, card="4000 0000 0000 0341")
    subscription_id = sdk.v1.checkout.sessions.retrieve(session.id).subscription
    renewed = stripe_standin.advance_subscription(acme.secret_key, subscription_id)

    assert sdk.v1.invoices.list(params={"subscription": subscription_id, "status": "paid"}).data[0].amount_paid == 900
    assert renewed["status"] == "past_due"
    assert _types(sdk)[-2:] == ["invoice.payment_failed", "customer.subscription.updated"]


def test_paying_twice_makes_one_subscription(stripe_standin, sdk, acme, plans):
    session = _session(sdk, plans[1], customer_email="bob@example.com")

    first = stripe_standin.pay_checkout(acme.secret_key, session.id)
    again = requests.post(session.url, data={"card_number": "4242424242424242"}, allow_redirects=False, timeout=5)
    page = requests.get(session.url, timeout=5)

    assert again.status_code == 303 and again.headers["Location"] == first
    assert len(sdk.v1.subscriptions.list().data) == 1
    assert _types(sdk).count("checkout.session.completed") == 1
    assert "This checkout is complete" in page.text and f'href="{first}"' in page.text
    assert "card_number" not in page.text
    assert [s.id for s in sdk.v1.checkout.sessions.list(
        params={"subscription": sdk.v1.subscriptions.list().data[0].id}).data] == [session.id]


def test_an_expired_session_cannot_be_paid(stripe_standin, sdk, acme, plans):
    session = _session(sdk, plans[1], customer_email="bob@example.com")

    expired = sdk.v1.checkout.sessions.expire(session.id)
    page = requests.get(session.url, timeout=5)
    paid = requests.post(session.url, data={"card_number": "4242424242424242"}, allow_redirects=False, timeout=5)

    assert expired.status == "expired" and _types(sdk)[-1] == "checkout.session.expired"
    assert "expired" in page.text and "card_number" not in page.text
    assert paid.status_code == 410 and sdk.v1.subscriptions.list().data == []
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.checkout.sessions.expire(session.id)
    assert json.loads(json.dumps(expired.to_dict()))["status"] == "expired"


def test_without_an_email_the_page_asks_for_one(sdk, plans):
    session = _session(sdk, plans[1])

    page = requests.get(session.url, timeout=5)
    missing = requests.post(session.url, data={"card_number": "4242424242424242"}, allow_redirects=False, timeout=5)
    paid = requests.post(session.url, data={"card_number": "4242424242424242", "email": "cy@example.com"},
                         allow_redirects=False, timeout=5)

    assert '<label for="email">Email</label>' in page.text
    assert missing.status_code == 400 and "Your email is incomplete." in missing.text
    assert paid.status_code == 303
    assert sdk.v1.checkout.sessions.retrieve(session.id).customer_details.email == "cy@example.com"


def test_sessions_are_listed_by_customer_and_creation_time_as_stripe_filters_them(sdk, plans, catalog):
    _, monthly, _ = plans
    customer = catalog[2]
    first = _session(sdk, monthly, customer=customer.id)
    other = _session(sdk, monthly, customer=sdk.v1.customers.create(params={"email": "bo@example.com"}).id)
    listed = sdk.v1.checkout.sessions.list(params={"customer": customer.id, "created": {"gte": first.created}})
    assert [s.id for s in listed.data] == [first.id] and other.id not in [s.id for s in listed.data]
    later = sdk.v1.checkout.sessions.list(params={"customer": customer.id, "created": {"gt": first.created}})
    assert later.data == []
    assert [s.id for s in sdk.v1.checkout.sessions.list(params={"created": first.created}).data
            if s.id == first.id] == [first.id]
