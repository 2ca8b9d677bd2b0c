"""Cryptolens' custom interface: the vendor's own code makes the subscription with `skm_temp_var`, makes the key
with CreateKey and names it (`skm_key_globalid`), while the portal, faster, may have made one of its own."""

from datetime import timedelta

import pytest
from sqlmodel import select

from portal.audit import events_for
from portal.billing import reconcile
from portal.billing_models import StripeConnection, Subscription
from portal.keys.managed import STRIPE_MANAGED
from portal.keys.services import KeySettings, create_key
from portal.models import DataObject, LicenseKey, Product
from tests.billing.conftest import app_session


def _vendors_own_key(shop, customer_id) -> int:
    """What the vendor's code makes with the Web API's CreateKey."""
    with app_session(shop.app) as session:
        key = create_key(session, product=session.get(Product, shop.product.id),
                         settings=KeySettings(period=30, customer_id=customer_id), actor="api_token:1 Shop")
        session.commit()
        return key.id


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
