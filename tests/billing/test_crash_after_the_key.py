"""A process that dies after the key is committed and before `skm_key_id` reaches Stripe: the redelivery finishes
the write-back, and no second key is made."""

import json
import multiprocessing

import pytest
from sqlmodel import select

from portal.billing_models import StripeEvent, Subscription
from tests.billing.test_webhook_endpoint import signed
from tests.support.processes import child_config

pytestmark = pytest.mark.processes


def _die_at_the_write_back(config: dict, path: str, body: bytes) -> None:
    import os

    from portal import create_app
    from portal.billing.gateway import Gateway

    def killed(*_args, **_kwargs):
        os._exit(9)  # as a SIGKILL would: no rollback, no answer, nothing more written

    Gateway.update_subscription_metadata = killed
    create_app(config).test_client().post(path, data=body, headers=signed(body))


def test_the_redelivery_finishes_the_write_back_without_a_second_key(app, shop, customer):
    shop.standin.hold_deliveries()
    subscription = shop.subscribe(customer=customer)
    created = next(e for e in shop.standin.pending_events(shop.secret_key)
                   if e["type"] == "customer.subscription.created")
    config = child_config(app, STRIPE_API_BASE=shop.standin.url)
    path, body = f"/stripe/webhook/{shop.vendor.slug}", json.dumps(created).encode()
    process = multiprocessing.get_context("spawn").Process(target=_die_at_the_write_back, args=(config, path, body))
    process.start()
    process.join(timeout=60)
    assert process.exitcode == 9

    key = shop.key()
    record = shop.db.exec(select(Subscription)).one()
    assert (record.key_id, record.key_written) == (key.id, False)
    event = shop.db.exec(select(StripeEvent).where(StripeEvent.event_id == created["id"])).one()
    assert event.done_at is None
    assert "skm_temp_var" in shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]

    shop.standin.release_deliveries()  # the held events, this one among them, as Stripe's retry sends them
    shop.settle()
    assert shop.key().id == key.id and len(shop.keys()) == 1
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata["skm_key_id"] == str(key.key_number) and "skm_temp_var" not in metadata
    assert shop.db.exec(select(StripeEvent).where(StripeEvent.event_id == created["id"])).one().done_at is not None
