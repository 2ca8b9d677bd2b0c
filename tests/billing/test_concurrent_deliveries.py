"""Ten copies of a subscription's events at once, split over two app processes on PostgreSQL: one key."""

import json

import pytest
from sqlmodel import select

from portal.billing_models import StripeEvent, Subscription
from portal.models import Customer
from tests.billing.test_webhook_endpoint import signed
from tests.conftest import TEST_DATABASE
from tests.support.processes import child_config, post_at_once

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")]


def test_ten_copies_at_once_over_two_processes_make_one_key(app, shop, customer):
    shop.standin.hold_deliveries()
    subscription = shop.subscribe(customer=customer)
    held = {event["type"]: event for event in shop.standin.pending_events(shop.secret_key)}
    created = json.dumps(held["customer.subscription.created"]).encode()
    paid = json.dumps(held["invoice.paid"]).encode()
    path = f"/stripe/webhook/{shop.vendor.slug}"
    posts = [{"path": path, "data": body, "headers": signed(body)} for body in [created] * 3 + [paid] * 2]
    answers = [status for status, _body in post_at_once(child_config(app, STRIPE_API_BASE=shop.standin.url),
                                                        [posts, posts])]

    assert len(answers) == 10 and all(status in (200, 503) for status in answers), answers
    for event_id in (held["customer.subscription.created"]["id"], held["invoice.paid"]["id"]):
        # What was refused for the moment (a lock lost to the other delivery) Stripe delivers again.
        shop.standin.redeliver(shop.secret_key, event_id)
    shop.standin.release_deliveries()
    shop.settle()
    key = shop.key()
    record = shop.db.exec(select(Subscription)).one()
    assert (record.stripe_subscription_id, record.key_id, record.key_written) == (subscription["id"], key.id, True)
    assert all(event.done_at for event in shop.db.exec(select(StripeEvent)).all()
               if event.type.startswith(("customer.subscription.", "invoice.")))


def test_a_new_buyers_events_at_once_over_two_processes_make_one_customer(app, shop):
    shop.standin.hold_deliveries()
    subscription = shop.subscribe(email="first.time@example.test")  # no skm_customer_id: found by e-mail, or new
    held = {event["type"]: event for event in shop.standin.pending_events(shop.secret_key)}
    bodies = [json.dumps(held[kind]).encode() for kind in ("customer.subscription.created", "invoice.paid")]
    path = f"/stripe/webhook/{shop.vendor.slug}"
    posts = [{"path": path, "data": body, "headers": signed(body)} for body in bodies * 3]
    answers = [status for status, _body in post_at_once(child_config(app, STRIPE_API_BASE=shop.standin.url),
                                                        [posts, posts])]

    assert all(status in (200, 503) for status in answers), answers
    shop.standin.release_deliveries()
    shop.settle()
    buyers = shop.db.exec(select(Customer).where(Customer.email == "first.time@example.test")).all()
    assert len(buyers) == 1 and shop.key().customer_id == buyers[0].id
    assert shop.db.exec(select(Subscription)).one().stripe_subscription_id == subscription["id"]
