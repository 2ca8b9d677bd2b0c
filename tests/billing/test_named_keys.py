"""Cryptolens' custom interface: the vendor's own code makes the subscription with `skm_temp_var`, makes the key
with CreateKey and names it (`skm_key_globalid`), while the portal, faster, may have made one of its own."""

from datetime import timedelta

import pytest
from sqlmodel import select

from portal.audit import events_for
from portal.billing import reconcile
from portal.billing.events import settle
from portal.billing.gateway import Gateway
from portal.billing_models import StripeConnection, Subscription
from portal.db import database_now
from portal.keys.managed import STRIPE_MANAGED
from portal.keys.services import KeySettings, create_key, set_blocked
from portal.models import DataObject, LicenseKey, Product
from tests.billing.conftest import app_session


def _vendors_own_key(shop, customer_id) -> int:
    """What the vendor's code makes with the Web API's CreateKey."""
    with app_session(shop.app) as session:
        key = create_key(session, product=session.get(Product, shop.product.id),
                         settings=KeySettings(period=30, customer_id=customer_id), actor="api_token:1 Shop")
        session.commit()
        return key.id


def _connection(session) -> StripeConnection:
    return session.exec(select(StripeConnection)).one()


def _drift(shop):
    with app_session(shop.app) as session:
        connection = session.exec(select(StripeConnection)).one()
        return reconcile.find_drift(session, connection=connection, now=shop.db.exec(select(
            Subscription.created)).first() + timedelta(days=1),
            subscriptions=shop.access.gateway(connection).subscriptions(), customers=[])


def test_a_key_named_after_the_portal_made_its_own_takes_its_place(shop, customer, vendor_client):
    subscription = shop.subscribe(customer=customer)
    shop.settle()  # the portal was faster: its own key is made and written back
    own = shop.key()
    named = _vendors_own_key(shop, customer.id)
    shop.stripe.subscriptions.update(subscription["id"], params={"metadata": {"skm_key_globalid": str(named),
                                                                              "skm_temp_var": ""}})
    shop.settle()
    shop.db.expire_all()
    record = shop.db.exec(select(Subscription)).one()
    taken, left = shop.db.get(LicenseKey, named), shop.db.get(LicenseKey, own.id)
    assert record.key_id == named and record.key_written and taken.renews_on is not None
    assert left.renews_on is None and not left.block and left.expires == own.expires  # runs to its expiry
    managed = {row.referencer_id for row in shop.db.exec(select(DataObject).where(DataObject.name == STRIPE_MANAGED))}
    assert managed == {named}  # the expiry sweep leaves the subscription's key to it, and only that one
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert (metadata["skm_key_id"], metadata["skm_key_globalid"]) == (str(taken.key_number), str(named))
    trail = events_for(shop.db, vendor_id=shop.vendor.id, subject_type="subscription", subject_id=record.id)
    assert "subscription.key_named" in [event.action for event in trail]
    assert "Key named in Stripe taken in place of the portal" in vendor_client.get(
        "/vendor/activity/?action=subscription.key_named").get_data(as_text=True)
    assert _drift(shop) == []


@pytest.mark.parametrize("whose", ["another customer's", "another subscription's"])
def test_a_named_key_the_subscription_cannot_take_is_shown_as_drift(shop, customer, make, vendor, whose):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    own = shop.key()
    if whose == "another customer's":
        named = _vendors_own_key(shop, make.customer(vendor, name="Grace", email="grace@example.test").id)
    else:
        shop.subscribe(customer=customer, email="second@example.test")
        shop.settle()
        named = next(key.id for key in shop.keys() if key.id != own.id)
    shop.stripe.subscriptions.update(subscription["id"], params={"metadata": {"skm_key_globalid": str(named)}})
    shop.settle()
    shop.db.expire_all()
    record = shop.db.exec(select(Subscription).where(Subscription.stripe_subscription_id == subscription["id"])).one()
    assert record.key_id == own.id and shop.db.get(LicenseKey, own.id).renews_on is not None
    (drift,) = _drift(shop)
    assert drift.stripe_id == subscription["id"] and f"skm_key_globalid {named} names another key" in drift.detail


def test_reconcile_takes_a_named_key_whose_event_was_missed(shop, customer, monkeypatch):
    """The webhook endpoint was down when the vendor's code named its key: the hourly reconcile is what recovers
    missed events, and must end where the event would have (the named key taken), not overwrite the name."""
    monkeypatch.setattr(reconcile, "SETTLING_TIME", timedelta(0))
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    own = shop.key()
    named = _vendors_own_key(shop, customer.id)
    shop.standin.hold_deliveries()  # the endpoint is down
    shop.stripe.subscriptions.update(subscription["id"], params={"metadata": {"skm_key_globalid": str(named)}})
    with app_session(shop.app) as session:
        reconcile.reconcile(session, shop.access, connection=_connection(session), dry_run=False,
                            actor="stripe reconcile (hourly)", portal_link=None)
    shop.standin.release_deliveries()
    shop.settle()
    shop.db.expire_all()
    record = shop.db.exec(select(Subscription)).one()
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert (record.key_id, metadata["skm_key_globalid"]) == (named, str(named)), (
        f"reconcile kept the portal's key {own.id} and wrote it over the vendor's name")


def test_a_read_begun_before_an_attach_was_written_back_does_not_undo_it(shop, customer, monkeypatch):
    """'Attach a key' (K3 in place of K1); a delivery reads Stripe after the repair's read but before its
    write-back lands (Stripe still names K1), and commits once key_written is True."""
    shop.subscribe(customer=customer)
    shop.settle()
    first = shop.key()
    mine = _vendors_own_key(shop, customer.id)
    record = shop.db.exec(select(Subscription)).one()
    real_write, real_read, caught = Gateway.update_subscription_metadata, Gateway.subscription, {}

    def write(self, subscription_id, metadata, *, idempotency_key):
        if not caught:  # another delivery reads Stripe now, before this write lands
            with app_session(shop.app) as other:
                caught["read_at"] = database_now(other)
            caught["copy"] = real_read(self, subscription_id)
        return real_write(self, subscription_id, metadata, idempotency_key=idempotency_key)

    shop.standin.hold_deliveries()
    monkeypatch.setattr(Gateway, "update_subscription_metadata", write)
    with app_session(shop.app) as session:
        reconcile.attach_key(session, shop.access, connection=_connection(session), subscription_id=record.id,
                             key_id=mine, actor="vendor_user:1 owner@example.test")
    monkeypatch.setattr(Gateway, "update_subscription_metadata", real_write)
    with app_session(shop.app) as session:  # the in-between delivery commits now
        connection = _connection(session)
        settle(session, shop.access.gateway(connection), connection=connection, subscription=caught["copy"],
               read_at=caught["read_at"], actor="stripe evt_late")
    shop.db.expire_all()
    now = shop.db.get(Subscription, record.id)
    assert now.key_id == mine, (
        f"the attachment was undone: the record pays for key {now.key_id} again (blocked by the attach: "
        f"{shop.db.get(LicenseKey, first.id).block}), marked written while Stripe names {mine}")


def test_a_named_key_taken_while_the_old_one_was_blocked_for_payment_keeps_a_hand_block(shop, customer):
    """renamed_key leaves blocked_for == "payment" (about the old key) on the record: the new key, blocked by hand
    later (a chargeback), is unblocked by the next sync, here 'Write the metadata' (no unblock asked)."""
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    own = shop.key()
    with app_session(shop.app) as session:  # as the unpaid-renewal sweep left it
        set_blocked(session, key=session.get(LicenseKey, own.id), blocked=True, actor="stripe: unpaid renewal")
        session.exec(select(Subscription)).one().blocked_for = "payment"
        session.commit()
    named = _vendors_own_key(shop, customer.id)
    shop.stripe.subscriptions.update(subscription["id"], params={"metadata": {"skm_key_globalid": str(named)}})
    shop.settle()
    shop.db.expire_all()
    record = shop.db.exec(select(Subscription)).one()
    assert record.key_id == named
    with app_session(shop.app) as session:
        set_blocked(session, key=session.get(LicenseKey, named), blocked=True, actor="vendor_user:1 owner")
        session.commit()
        reconcile.repair_subscription(session, shop.access, connection=_connection(session),
                                      stripe_subscription_id=subscription["id"], actor="vendor_user:1 owner",
                                      portal_link=None)
    shop.db.expire_all()
    assert shop.db.get(LicenseKey, named).block, "a key blocked by hand was unblocked by a repair"
