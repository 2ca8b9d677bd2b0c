"""Ten copies of a subscription's events at once, split over two app processes on PostgreSQL: one key."""

import json
import multiprocessing
import threading

import pytest
from sqlmodel import select

from portal.billing_models import StripeEvent, Subscription
from tests.billing.test_webhook_endpoint import signed
from tests.conftest import TEST_DATABASE
from tests.support.processes import child_config

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")]


def _deliver(config: dict, path: str, bodies: list[bytes], barrier, results) -> None:
    from portal import create_app

    app = create_app(config)
    answers = []

    def post(body: bytes) -> None:
        answers.append(app.test_client().post(path, data=body, headers=signed(body)).status_code)

    threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
    barrier.wait(timeout=60)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    results.put(answers)


def test_ten_copies_at_once_over_two_processes_make_one_key(app, shop, customer):
    shop.standin.hold_deliveries()
    subscription = shop.subscribe(customer=customer)
    held = {event["type"]: event for event in shop.standin.pending_events(shop.secret_key)}
    created = json.dumps(held["customer.subscription.created"]).encode()
    paid = json.dumps(held["invoice.paid"]).encode()
    config = child_config(app, STRIPE_API_BASE=shop.standin.url)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    path = f"/stripe/webhook/{shop.vendor.slug}"
    processes = [context.Process(target=_deliver, args=(config, path, [created] * 3 + [paid] * 2, barrier, results))
                 for _ in range(2)]
    for process in processes:
        process.start()
    answers = [status for _ in processes for status in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=30)

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
