"""Subscriptions and invoices in API 2026-10-28's shapes: create, update, cancel, trial, decline, renewal, pay."""

import pytest
import stripe

from tests.support.standin import stripe_client


def _subscribe(sdk, price, customer, **params):
    return sdk.v1.subscriptions.create(
        params={"customer": customer.id, "items": [{"price": price.id, "quantity": 1}],
                "metadata": {"skm_temp_var": "This parameter will replaced with 'skm_key_id'"}, **params}
    )


def _types(sdk) -> list[str]:
    events = sdk.v1.events.list(params={"limit": 100}).data
    return [event.type for event in reversed(events)]


def test_a_subscription_has_the_2026_shape(sdk, catalog):
    product, price, customer = catalog

    created = _subscribe(sdk, price, customer)
    found = sdk.v1.subscriptions.retrieve(
        created.id, params={"expand": ["customer", "items.data.price.product", "latest_invoice"]}
    ).to_dict()

    item = found["items"]["data"][0]
    assert found["status"] == "active" and found["id"].startswith("sub_") and item["id"].startswith("si_")
    assert "current_period_end" not in found and "current_period_start" not in found
    assert item["current_period_end"] > item["current_period_start"] == found["start_date"]
    assert item["price"]["id"] == price.id and item["price"]["product"]["id"] == product.id
    assert found["customer"]["email"] == "ann@example.com"
    invoice = found["latest_invoice"]
    assert "subscription" not in invoice
    assert invoice["parent"]["type"] == "subscription_details"
    assert invoice["parent"]["subscription_details"]["subscription"] == created.id
    assert invoice["parent"]["subscription_details"]["metadata"]["skm_temp_var"].startswith("This parameter")
    assert (invoice["status"], invoice["billing_reason"]) == ("paid", "subscription_create")
    assert invoice["amount_paid"] == 1000
    line = invoice["lines"]["data"][0]
    assert line["pricing"]["price_details"]["price"] == price.id
    assert line["period"] == {"start": item["current_period_start"], "end": item["current_period_end"]}


def test_creating_sends_stripes_events_in_order(sdk, catalog):
    _, price, customer = catalog

    _subscribe(sdk, price, customer)

    assert _types(sdk)[-5:] == ["customer.subscription.created", "invoice.created", "invoice.finalized",
                                "invoice.paid", "invoice.payment_succeeded"]


def test_metadata_updates_merge_and_remove_with_previous_attributes(sdk, catalog):
    _, price, customer = catalog
    subscription = _subscribe(sdk, price, customer)

    updated = sdk.v1.subscriptions.update(
        subscription.id, params={"metadata": {"skm_key_id": "7", "skm_key_globalid": "99", "skm_temp_var": ""}}
    )

    assert updated.metadata.to_dict() == {"skm_key_id": "7", "skm_key_globalid": "99"}
    event = sdk.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert event.data.object.metadata.to_dict() == updated.metadata.to_dict()
    assert event.data.previous_attributes["metadata"].to_dict() == {
        "skm_key_id": None, "skm_key_globalid": None,
        "skm_temp_var": "This parameter will replaced with 'skm_key_id'",
    }


def test_switching_price_cancelling_at_period_end_and_cancelling(sdk, catalog):
    product, price, customer = catalog
    subscription = _subscribe(sdk, price, customer)
    other = sdk.v1.prices.create(params={"product": product.id, "unit_amount": 2500, "currency": "usd",
                                         "recurring": {"interval": "month"}})
    item_id = subscription["items"]["data"][0]["id"]

    switched = sdk.v1.subscriptions.update(
        subscription.id, params={"items": [{"id": item_id, "price": other.id}], "proration_behavior": "none"}
    )
    at_end = sdk.v1.subscriptions.update(subscription.id, params={"cancel_at_period_end": True})
    canceled = sdk.v1.subscriptions.cancel(subscription.id)

    assert switched["items"]["data"][0]["price"]["id"] == other.id
    assert at_end.cancel_at == at_end["items"]["data"][0]["current_period_end"]
    assert canceled.status == "canceled" and canceled.ended_at and canceled.canceled_at
    assert _types(sdk)[-1] == "customer.subscription.deleted"
    assert [s.id for s in sdk.v1.subscriptions.list(params={"price": other.id, "status": "all"}).data] == [
        subscription.id
    ]
    assert sdk.v1.subscriptions.list(params={"customer": customer.id}).data == []


def test_deleting_a_customer_cancels_its_subscriptions_as_stripe_does(sdk, catalog):
    _product, price, customer = catalog
    subscription = _subscribe(sdk, price, customer)

    sdk.v1.customers.delete(customer.id)

    ended = sdk.v1.subscriptions.retrieve(subscription.id, params={"expand": ["customer"]})
    assert ended.status == "canceled" and ended.customer.deleted is True
    assert _types(sdk)[-2:] == ["customer.subscription.deleted", "customer.deleted"]


def test_a_trial_ends_when_advanced(stripe_standin, sdk, acme, catalog):
    _, price, customer = catalog
    subscription = _subscribe(sdk, price, customer, trial_period_days=14)
    item = subscription["items"]["data"][0]

    renewed = stripe_standin.advance_subscription(acme.secret_key, subscription.id)

    assert subscription.status == "trialing"
    assert item["current_period_end"] == subscription.trial_end == subscription.trial_start + 14 * 86400
    assert renewed["status"] == "active"
    assert renewed["items"]["data"][0]["current_period_start"] == subscription.trial_end
    invoice = sdk.v1.invoices.retrieve(renewed["latest_invoice"])
    assert (invoice.billing_reason, invoice.status, invoice.amount_paid) == ("subscription_cycle", "paid", 1000)


def test_a_declined_card_leaves_the_subscription_incomplete(sdk, catalog):
    _, price, _ = catalog
    customer = sdk.v1.customers.create(params={"payment_method": "pm_card_chargeDeclined"})

    subscription = _subscribe(sdk, price, customer)

    assert subscription.status == "incomplete"
    assert _types(sdk)[-1] == "invoice.payment_failed"
    assert sdk.v1.invoices.retrieve(subscription.latest_invoice).status == "open"
    with pytest.raises(stripe.CardError):
        _subscribe(sdk, price, customer, payment_behavior="error_if_incomplete")


def test_a_renewal_that_fails_then_is_paid(stripe_standin, sdk, acme, catalog):
    _, price, _ = catalog
    card = "pm_card_chargeCustomerFail"
    customer = sdk.v1.customers.create(params={"invoice_settings": {"default_payment_method": card}})
    subscription = _subscribe(sdk, price, customer)
    first_end = subscription["items"]["data"][0]["current_period_end"]

    failed = stripe_standin.advance_subscription(acme.secret_key, subscription.id)
    after_failure = _types(sdk)[-4:]
    with pytest.raises(stripe.CardError):
        sdk.v1.invoices.pay(failed["latest_invoice"])
    paid = sdk.v1.invoices.pay(failed["latest_invoice"], params={"payment_method": "pm_card_visa"})

    assert subscription.status == "active"
    assert failed["status"] == "past_due" and failed["items"]["data"][0]["current_period_start"] == first_end
    assert after_failure == ["invoice.created", "invoice.finalized", "invoice.payment_failed",
                             "customer.subscription.updated"]
    assert paid.status == "paid"
    assert sdk.v1.subscriptions.retrieve(subscription.id).status == "active"
    assert _types(sdk)[-3:] == ["invoice.paid", "invoice.payment_succeeded", "customer.subscription.updated"]
    assert len(sdk.v1.invoices.list(params={"subscription": subscription.id}).data) == 2


def test_advance_paid_and_failed_on_request(stripe_standin, sdk, acme, catalog):
    _, price, customer = catalog
    subscription = _subscribe(sdk, price, customer)

    paid = stripe_standin.advance_subscription(acme.secret_key, subscription.id, outcome="paid")
    failed = stripe_standin.advance_subscription(acme.secret_key, subscription.id, outcome="failed")

    assert paid["status"] == "active" and failed["status"] == "past_due"
    event = sdk.v1.events.list(params={"type": "customer.subscription.updated"}).data[0]
    assert event.data.previous_attributes["status"] == "active"


def test_subscriptions_are_found_by_metadata_and_status(sdk, catalog):
    _, price, customer = catalog
    subscription = _subscribe(sdk, price, customer)
    done = _subscribe(sdk, price, customer)
    sdk.v1.subscriptions.update(done.id, params={"metadata": {"skm_temp_var": "", "skm_key_id": "3"}})

    stuck = sdk.v1.subscriptions.search(params={"query": "metadata['skm_temp_var']:'This parameter will replaced "
                                                         "with \\'skm_key_id\\''"})
    active = sdk.v1.subscriptions.search(params={"query": "status:'active' AND metadata['skm_key_id']:'3'"})

    assert [s.id for s in active.data] == [done.id]
    assert [s.id for s in stuck.data] == [subscription.id]


def test_the_same_subscription_is_not_made_twice_for_one_key(sdk, catalog):
    _, price, customer = catalog
    params = {"customer": customer.id, "items": [{"price": price.id}]}

    first = sdk.v1.subscriptions.create(params=params, options={"idempotency_key": "buy-1"})
    again = sdk.v1.subscriptions.create(params=params, options={"idempotency_key": "buy-1"})

    assert first.id == again.id
    assert len(sdk.v1.subscriptions.list().data) == 1


def test_an_unknown_price_is_a_404_naming_the_param(stripe_standin, acme, catalog):
    _, _, customer = catalog
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client(stripe_standin, acme.secret_key).v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"price": "price_nope"}]}
        )
    assert missing.value.http_status == 404 and missing.value.param == "items[0][price]"
