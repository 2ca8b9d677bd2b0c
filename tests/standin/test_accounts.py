"""Accounts are separated by API key; an unknown or missing key is Stripe's 401 and never echoed."""

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
