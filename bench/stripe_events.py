"""The bench vendor's Stripe side, shared by bench/webhook.py (and the tools built on it) and bench/soak.py.

The vendor connected to the Stripe stand-in with a linked price, subscriptions made in the stand-in, events signed
as Stripe signs them, and the check that each subscription has exactly one key. The steps that need the portal's
code take an app (`create_app()` of the portal's environment) and import the portal only when they run, so that a
load generator importing this module does not load it.
"""

import concurrent.futures
import hashlib
import hmac
import time

CREATORS = 16  # threads making the subscriptions in the stand-in (not timed)


def signed_headers(secret: str, body: str) -> dict:
    """The headers of Stripe's delivery of `body`, signed with the endpoint's `secret` at this moment."""
    at = int(time.time())
    signature = hmac.new(secret.encode(), f"{at}.{body}".encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Stripe-Signature": f"t={at},v1={signature}",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}


def stripe_v1(base: str, secret_key: str):
    """The SDK's client of the stand-in at `base` (its `v1` services)."""
    import stripe

    return stripe.StripeClient(secret_key, base_addresses={"api": base}, max_network_retries=2).v1


def subscribe(v1, price: str, customer_id: int) -> str:
    """A Stripe customer for a bench customer (metadata `skm_customer_id`) and its subscription to `price`."""
    customer = v1.customers.create(params={
        "name": f"Subscriber {customer_id}", "email": f"subscriber.{customer_id}@example.test",
        "metadata": {"skm_customer_id": str(customer_id)}})
    return v1.subscriptions.create(params={"customer": customer.id, "items": [{"price": price}]}).id


def make_subscriptions(base: str, secret_key: str, price: str, customers: list[int]) -> list[str]:
    """One subscription for each of `customers` (`subscribe`), from CREATORS threads; their ids, in that order."""
    v1 = stripe_v1(base, secret_key)
    with concurrent.futures.ThreadPoolExecutor(CREATORS) as pool:
        return list(pool.map(lambda customer_id: subscribe(v1, price, customer_id), customers))


def connect_vendor(app, *, slug: str, product_id: int, secret_key: str, webhook_secret: str, customers: int,
                   skip: int) -> dict:
    """Connect the vendor to the stand-in and link a price of "Big App" (F1, 2 machines), through the portal's own
    services; pick up to `customers` of its customers that have no Stripe customer yet (an earlier run's are
    skipped), never `skip`. Returns the Stripe price, its key settings and those customers."""
    from sqlmodel import select

    from portal.billing import connection, plans
    from portal.billing.skm import Skm
    from portal.billing_models import StripeCustomer
    from portal.db import get_session
    from portal.models import Customer, Vendor

    with app.app_context():
        session, access = get_session(), app.extensions["stripe_access"]
        vendor_id = session.exec(select(Vendor.id).where(Vendor.slug == slug)).one()
        for price in plans.prices_of(session, vendor_id=vendor_id, product_id=product_id):  # an earlier run's
            plans.unlink_price(session, vendor_id=vendor_id, product_id=product_id, price_id=price.id,
                               actor="bench")
        connection.connect(session, access, vendor_id=vendor_id, secret_key=secret_key,
                           webhook_secret=webhook_secret, actor="bench")
        session.commit()
        row = plans.create_price(session, access, vendor_id=vendor_id, product_id=product_id, amount="9.00",
                                 currency="usd", interval="month", actor="bench")
        session.commit()
        row = plans.change_settings(session, access, vendor_id=vendor_id, product_id=product_id, price_id=row.id,
                                    skm=Skm(features={"f1": True}, max_no_of_machines=2), actor="bench")
        session.commit()
        linked = select(StripeCustomer.customer_id).where(StripeCustomer.vendor_id == vendor_id)
        found = session.exec(select(Customer.id).where(Customer.vendor_id == vendor_id, Customer.id != skip,
                                                       Customer.id.not_in(linked))
                             .order_by(Customer.id).limit(customers)).all()
        return {"price": row.stripe_price_id, "skm": row.skm, "customers": list(found)}


def subscription_keys(app, *, slug: str, subscriptions: list[str]) -> dict:
    """Each subscription's record and key, read from the database: `one_key_each` when every subscription has a
    record and a key, no key serves two, and each key has its one Stripe data object; with the counts, and the
    vendor's records and Stripe-made keys in all (none beyond `subscriptions` when they are all of its own)."""
    from sqlalchemy import func
    from sqlmodel import select

    from portal.billing_models import Subscription
    from portal.dataobjects.services import KEY
    from portal.db import get_session
    from portal.keys.managed import STRIPE_MANAGED
    from portal.models import DataObject, LicenseKey, Vendor

    with app.app_context():
        session = get_session()
        vendor_id = session.exec(select(Vendor.id).where(Vendor.slug == slug)).one()
        every = session.exec(select(Subscription.stripe_subscription_id, Subscription.key_id, LicenseKey.key_number)
                             .join(LicenseKey, LicenseKey.id == Subscription.key_id, isouter=True)
                             .where(Subscription.vendor_id == vendor_id)).all()
        wanted = set(subscriptions)
        rows = [row for row in every if row[0] in wanted]
        key_ids = [key_id for _, key_id, _ in rows if key_id is not None]
        objects = dict(session.exec(select(DataObject.referencer_id, func.count())
                                    .where(DataObject.vendor_id == vendor_id, DataObject.referencer_type == KEY,
                                           DataObject.name == STRIPE_MANAGED)
                                    .group_by(DataObject.referencer_id)).all())
        one_each = (len(rows) == len(subscriptions) == len(key_ids) == len(set(key_ids))
                    and all(objects.get(key_id) == 1 for key_id in key_ids))
        return {"one_key_each": one_each, "key_numbers": {sub: number for sub, _, number in rows},
                "counts": {"subscriptions": len(subscriptions), "records": len(rows), "keys": len(set(key_ids)),
                           "keys_with_one_stripe_object": sum(1 for k in key_ids if objects.get(k) == 1),
                           "vendor_records": len(every), "vendor_stripe_keys": len(objects)}}
