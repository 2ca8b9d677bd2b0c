"""Accounts are separated by API key; an unknown or missing key is Stripe's 401 and never echoed."""

import json

import pytest
import requests
import stripe

from tests.support.standin import stripe_client


def test_a_customer_of_one_account_is_missing_for_another(stripe_standin, sdk):
    other = stripe_client(stripe_standin, stripe_standin.create_account("Other GmbH").secret_key)
    customer = sdk.v1.customers.create(params={"email": "ann@example.com"})

    with pytest.raises(stripe.InvalidRequestError) as missing:
        other.v1.customers.retrieve(customer.id)

    assert missing.value.http_status == 404
    assert missing.value.code == "resource_missing"
    assert str(missing.value.user_message) == f"No such customer: '{customer.id}'"
    assert other.v1.customers.list().data == []


def test_the_restricted_key_reaches_the_same_account(stripe_standin, sdk, acme):
    customer = sdk.v1.customers.create(params={"email": "ann@example.com"})

    restricted = stripe_client(stripe_standin, acme.restricted_key)

    assert acme.restricted_key.startswith("rk_test_")
    assert restricted.v1.customers.retrieve(customer.id).email == "ann@example.com"


def test_an_unknown_key_is_refused_without_being_echoed(stripe_standin):
    key = "sk_test_notanaccountatall1234abcd"

    with pytest.raises(stripe.AuthenticationError) as refused:
        stripe_client(stripe_standin, key).v1.customers.list()

    assert refused.value.http_status == 401
    assert refused.value.user_message == "Invalid API Key provided: sk_test_****abcd"
    assert key not in str(refused.value.json_body)


def test_a_missing_key_is_refused(stripe_standin):
    answer = requests.get(stripe_standin.url + "/v1/customers", timeout=5)

    assert answer.status_code == 401
    assert answer.json()["error"]["type"] == "invalid_request_error"


def test_the_account_describes_itself(stripe_standin, sdk, acme):
    account = sdk.v1.accounts.retrieve_current()

    assert account.id == acme.id and acme.id.startswith("acct_")
    assert account.settings.dashboard.display_name == "Acme Ltd"
    assert account.business_profile.name == "Acme Ltd"
    assert (account.country, account.default_currency, account.charges_enabled) == ("US", "usd", True)


def test_ensure_account_keeps_the_chosen_key(stripe_standin):
    first = stripe_standin.ensure_account("sk_test_demo_vendor_key", "Demo")
    again = stripe_standin.ensure_account("sk_test_demo_vendor_key", "Demo")

    assert first.id == again.id
    assert stripe_client(stripe_standin, "sk_test_demo_vendor_key").v1.accounts.retrieve_current().id == first.id


def test_a_live_key_answers_in_live_mode_apart_from_the_test_keys_data(stripe_standin, sdk, acme, receiver):
    live = stripe_standin.create_account("Acme Ltd", livemode=True)
    client = stripe_client(stripe_standin, live.secret_key)
    stripe_standin.register_webhook(live.secret_key, receiver.url, "whsec_live_secret")

    assert live.secret_key.startswith("sk_live_") and live.restricted_key.startswith("rk_live_")
    assert client.v1.accounts.retrieve_current().id == live.id != acme.id
    customer = client.v1.customers.create(params={"email": "ann@example.com"})
    product = client.v1.products.create(params={"name": "Pro"})
    price = client.v1.prices.create(params={"product": product.id, "unit_amount": 900, "currency": "usd",
                                            "recurring": {"interval": "month"}})
    checkout = client.v1.checkout.sessions.create(params={
        "mode": "subscription", "customer": customer.id, "line_items": [{"price": price.id, "quantity": 1}],
        "success_url": "https://example.test/ok", "cancel_url": "https://example.test/no"})
    stripe_standin.pay_checkout(live.secret_key, checkout.id)
    stripe_standin.wait_idle()

    assert checkout.id.startswith("cs_live_") and checkout.livemode is True
    assert all(thing.livemode is True for thing in (customer, product, price))
    (subscription,) = client.v1.subscriptions.list().data
    assert subscription.livemode is True
    assert receiver.types and all(json.loads(body)["livemode"] is True for body, _ in receiver.received)
    assert sdk.v1.customers.create(params={"email": "bob@example.com"}).livemode is False
    with pytest.raises(stripe.InvalidRequestError):
        sdk.v1.customers.retrieve(customer.id)


def test_make_runs_stand_in_opens_an_account_for_an_unknown_test_key(tmp_path):
    """`--open-accounts` (make run): a vendor registered in the demo pastes a test key of its own choosing and has an
    account of its own; a live key, or a key too short to be one, is still refused."""
    from devtools.stripe_standin import StandIn

    with StandIn(data_dir=tmp_path, open_accounts=True) as standin:
        mine = stripe_client(standin, "sk_test_acme_tools_1")
        account = mine.v1.accounts.retrieve_current()
        customer = mine.v1.customers.create(params={"email": "ann@example.com"})
        assert mine.v1.customers.retrieve(customer.id).email == "ann@example.com"
        other = stripe_client(standin, "sk_test_someone_else")
        assert other.v1.customers.list().data == []  # an account of its own
        for refused in ("sk_test_short", "sk_live_acme_tools_1"):
            with pytest.raises(stripe.AuthenticationError):
                stripe_client(standin, refused).v1.customers.list()
        assert account.id.startswith("acct_") and account.id != other.v1.accounts.retrieve_current().id
    with StandIn(data_dir=tmp_path) as again:  # kept, like any account of the run
        assert stripe_client(again, "sk_test_acme_tools_1").v1.customers.retrieve(customer.id).id == customer.id
