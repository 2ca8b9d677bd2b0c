"""Webhook delivery: signed as Stripe signs, in order per account, retried a bounded number of times."""

import json

import stripe

from tests.support.standin import stripe_client

SECRET = "whsec_test_secret"


def test_events_arrive_signed_and_verifiable(stripe_standin, sdk, acme, receiver):
    stripe_standin.register_webhook(acme.secret_key, receiver.url, SECRET)

    customer = sdk.v1.customers.create(params={"email": "ann@example.com"}, options={"idempotency_key": "k-1"})
    stripe_standin.wait_idle()

    body, signature = receiver.received[0]
    event = stripe.Webhook.construct_event(body, signature, SECRET)
    assert sdk.construct_event(body, signature, SECRET).id == event.id
    assert event.type == "customer.created" and event.data.object.id == customer.id
    assert event.api_version == "2026-10-28.endive" and event.livemode is False
    assert event.request.idempotency_key == "k-1"
    assert sdk.v1.events.retrieve(event.id).pending_webhooks == 0


def test_only_the_accounts_own_endpoints_with_matching_types_receive(stripe_standin, sdk, acme, receiver):
    other = stripe_standin.create_account("Other GmbH")
    stripe_standin.register_webhook(other.secret_key, receiver.url, SECRET)
    stripe_standin.register_webhook(acme.secret_key, receiver.url, SECRET, events=["product.created"])

    sdk.v1.customers.create(params={"email": "ann@example.com"})
    sdk.v1.products.create(params={"name": "Pro"})
    stripe_client(stripe_standin, other.secret_key).v1.customers.create(params={"name": "Olaf"})
    stripe_standin.wait_idle()

    assert sorted(receiver.types) == ["customer.created", "product.created"]


def test_events_of_a_subscription_arrive_in_creation_order(stripe_standin, sdk, acme, catalog, receiver):
    _, price, customer = catalog
    stripe_standin.register_webhook(acme.secret_key, receiver.url, SECRET)

    sdk.v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price.id}]})
    stripe_standin.wait_idle()

    assert receiver.types == ["customer.subscription.created", "invoice.created", "invoice.finalized",
                              "invoice.paid", "invoice.payment_succeeded"]


def test_a_failing_endpoint_is_retried_a_bounded_number_of_times(stripe_standin, sdk, acme, receiver):
    stripe_standin.register_webhook(acme.secret_key, receiver.url, SECRET)
    receiver.statuses = [500] * 10

    customer = sdk.v1.customers.create(params={"email": "ann@example.com"})
    stripe_standin.wait_idle()

    attempts = [d for d in stripe_standin.deliveries if d["type"] == "customer.created"]
    assert [(d["attempt"], d["status"]) for d in attempts] == [(1, 500), (2, 500), (3, 500), (4, 500)]
    undelivered = sdk.v1.events.list(params={"delivery_success": False}).data
    assert [e.data.object.id for e in undelivered] == [customer.id]
    assert undelivered[0].pending_webhooks == 1

    receiver.statuses = []
    stripe_standin.redeliver(acme.secret_key, undelivered[0].id)
    stripe_standin.wait_idle()
    assert sdk.v1.events.list(params={"delivery_success": False}).data == []


def test_a_retry_that_succeeds_counts_as_delivered(stripe_standin, sdk, acme, receiver):
    stripe_standin.register_webhook(acme.secret_key, receiver.url, SECRET)
    receiver.statuses = [503]

    sdk.v1.customers.create(params={"email": "ann@example.com"})
    stripe_standin.wait_idle()

    assert [d["status"] for d in stripe_standin.deliveries] == [503, 200]
    assert sdk.v1.events.list(params={"delivery_success": False}).data == []


def test_an_unreachable_endpoint_is_logged_as_an_error(stripe_standin, sdk, acme):
    stripe_standin.register_webhook(acme.secret_key, "http://127.0.0.1:9/nothing-listens", SECRET)

    sdk.v1.customers.create(params={"email": "ann@example.com"})
    stripe_standin.wait_idle()

    log = stripe_standin.deliveries
    assert len(log) == 4 and all(d["status"] is None and d["error"] for d in log)


def test_held_events_wait_and_can_be_released_in_another_order(stripe_standin, sdk, acme, receiver):
    stripe_standin.register_webhook(acme.secret_key, receiver.url, SECRET)
    stripe_standin.hold_deliveries()

    sdk.v1.customers.create(params={"name": "first"})
    sdk.v1.products.create(params={"name": "second"})
    stripe_standin.wait_idle()
    held = stripe_standin.pending_events(acme.secret_key)
    assert receiver.received == []
    assert [e["type"] for e in held] == ["customer.created", "product.created"]

    stripe_standin.release_deliveries(order=[held[1]["id"], held[0]["id"]])
    stripe_standin.wait_idle()

    assert receiver.types == ["product.created", "customer.created"]
    assert stripe_standin.pending_events(acme.secret_key) == []


def test_events_list_filters(stripe_standin, sdk, catalog):
    first = sdk.v1.events.list(params={"limit": 100}).data[-1]

    customers = sdk.v1.events.list(params={"type": "customer.*"}).data
    chosen = sdk.v1.events.list(params={"types": ["price.created", "product.created"]}).data
    since = sdk.v1.events.list(params={"created": {"gte": first.created}, "limit": 2})

    assert {e.type for e in customers} == {"customer.created"}
    assert [e.type for e in chosen] == ["price.created", "product.created"]
    assert len(since.data) == 2 and since.has_more
    assert json.loads(json.dumps(first.to_dict()))["object"] == "event"


def test_the_demo_webhook_moves_with_the_portals_port(stripe_standin, sdk, acme, receiver):
    """`make run` on another PORT registers the demo's webhook at the new address: the account keeps one endpoint
    for that path (the one of the port before, moved), so no event is first retried against the dead port."""
    path = "/stripe/webhook/demo"
    old = stripe_standin.ensure_webhook(acme.secret_key, f"http://127.0.0.1:9{path}", "whsec_old")
    other = stripe_standin.register_webhook(acme.secret_key, "http://127.0.0.1:9/another-path", SECRET)
    new_url = receiver.url.replace("/hook", path)

    moved = stripe_standin.ensure_webhook(acme.secret_key, new_url, SECRET)
    assert stripe_standin.ensure_webhook(acme.secret_key, new_url, SECRET) == moved == old  # a second start: the same

    endpoints = {e.id: e.url for e in sdk.v1.webhook_endpoints.list().data}
    assert endpoints == {moved: new_url, other: "http://127.0.0.1:9/another-path"}
    customer = sdk.v1.customers.create(params={"email": "ann@example.com"})
    stripe_standin.wait_idle()
    body, signature = receiver.received[0]
    assert stripe.Webhook.construct_event(body, signature, SECRET).data.object.id == customer.id
    assert {d["url"] for d in stripe_standin.deliveries if d["status"] is None} == {"http://127.0.0.1:9/another-path"}
    assert [d["status"] for d in stripe_standin.deliveries if d["url"] == new_url] == [200]


def test_the_demo_webhook_leaves_one_endpoint_of_several_for_its_path(stripe_standin, sdk, acme, receiver):
    """An account that gathered an endpoint per port (as `make run` did before) keeps only the one at the new URL."""
    path = "/stripe/webhook/demo"
    for port in (5000, 5001):
        stripe_standin.register_webhook(acme.secret_key, f"http://127.0.0.1:{port}{path}", SECRET)
    new_url = receiver.url.replace("/hook", path)
    kept = stripe_standin.register_webhook(acme.secret_key, new_url, "whsec_before")

    assert stripe_standin.ensure_webhook(acme.secret_key, new_url, SECRET) == kept

    assert [(e.id, e.url) for e in sdk.v1.webhook_endpoints.list().data] == [(kept, new_url)]
    sdk.v1.customers.create(params={"email": "ann@example.com"})
    stripe_standin.wait_idle()
    assert [(d["url"], d["status"]) for d in stripe_standin.deliveries] == [(new_url, 200)]
    stripe.Webhook.construct_event(*receiver.received[0], SECRET)  # signed with the secret given now
