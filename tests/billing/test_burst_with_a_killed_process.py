"""A burst of Stripe events for distinct subscriptions over two gunicorn servers, one server's worker SIGKILLed
midway: after Stripe's redeliveries every subscription has exactly one key."""

import json
import threading
import time

import pytest
from sqlmodel import select

from portal.billing_models import Subscription
from tests.billing.test_webhook_endpoint import signed
from tests.conftest import TEST_DATABASE
from tests.support.gunicorn import servers
from tests.support.processes import child_config, send_at_once

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")]

SUBSCRIPTIONS = 8


def _answered(server) -> int:
    log = server.log.with_suffix(".access")
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_killed_worker_midway_leaves_one_key_per_subscription_after_redelivery(app, make, shop, vendor):
    shop.standin.hold_deliveries()
    made = [shop.subscribe(customer=make.customer(vendor, name=f"Buyer {n}"), email=f"buyer{n}@example.test")
            for n in range(SUBSCRIPTIONS)]
    held = shop.standin.pending_events(shop.secret_key)
    path = f"/stripe/webhook/{shop.vendor.slug}"
    posts = [{"path": path, "data": body, "headers": signed(body)}
             for body in (json.dumps(event).encode() for event in held)]

    with servers(child_config(app, STRIPE_API_BASE=shop.standin.url)) as (first, second):
        before = _answered(first)
        burst = threading.Thread(target=lambda: answers.extend(
            send_at_once([(first.url, posts[0::2]), (second.url, posts[1::2])])))
        answers: list = []
        burst.start()
        deadline = time.monotonic() + 30
        while _answered(first) < before + 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        killed = first.kill_worker()  # in the middle of the burst: the master starts another worker
        burst.join(timeout=120)

    assert killed and len(answers) == len(posts)
    assert {status for status, _body in answers} <= {0, 200, 500, 502, 503}, answers
    shop.standin.release_deliveries()  # Stripe delivers again what was not answered 2xx (here: everything held)
    shop.settle()

    records = shop.db.exec(select(Subscription)).all()
    assert sorted(r.stripe_subscription_id for r in records) == sorted(s["id"] for s in made)
    keys = shop.keys()
    assert len(keys) == SUBSCRIPTIONS and {r.key_id for r in records} == {k.id for k in keys}
    assert all(record.key_written for record in records)
