"""Stripe fixtures: the local stand-in with an account per test, the app served on loopback for its webhooks,
and a vendor connected to that account with a product whose Stripe prices are linked."""

from dataclasses import dataclass

import pytest
import stripe
from sqlmodel import Session, select

from portal.billing import connection, plans
from portal.billing.connection import StripeAccess
from portal.billing.skm import Skm
from portal.billing_models import StripeConnection, StripePrice
from portal.models import LicenseKey, Product
from portal.products.services import create_product
from portal.rendering import content_security_policy
from tests.support.live import served
from tests.support.standin import standin_server, stripe_standin  # noqa: F401 - fixtures, used by name

TEMP_VAR = "This parameter will replaced with 'skm_key_id'"
SIGNING_SECRET = "whsec_test_portal_signing_secret_0001"


@pytest.fixture
def served_app(app):
    """The test's app served over HTTP on 127.0.0.1 (Stripe's webhooks come over the network); its base URL."""
    with served(app) as base_url:
        yield base_url


@dataclass
class Shop:
    """A vendor connected to its own stand-in account, with a product and its monthly and yearly prices."""

    app: object
    db: object
    standin: object
    vendor: object
    secret_key: str
    product: Product
    monthly: str
    yearly: str

    @property
    def stripe(self) -> stripe.StripeClient:
        return stripe.StripeClient(self.secret_key, base_addresses={"api": self.standin.url}).v1

    @property
    def access(self) -> StripeAccess:
        return self.app.extensions["stripe_access"]

    def subscribe(self, *, customer=None, email="buyer@example.test", price=None, **params) -> dict:
        """A subscription made the way Cryptolens' custom interface makes one: with `skm_temp_var`."""
        metadata = {"skm_customer_id": str(customer.id)} if customer is not None else {}
        stripe_customer = self.stripe.customers.create(params={"email": email, "name": "Buyer",
                                                               "metadata": metadata})
        subscription = self.stripe.subscriptions.create(params={
            "customer": stripe_customer.id, "items": [{"price": price or self.monthly}],
            "metadata": {"skm_temp_var": TEMP_VAR}, **params})
        return subscription.to_dict()

    def settle(self) -> None:
        self.standin.wait_idle(timeout=20)

    def keys(self) -> list[LicenseKey]:
        return list(self.db.exec(select(LicenseKey).where(LicenseKey.vendor_id == self.vendor.id)
                                 .order_by(LicenseKey.id)).all())

    def key(self) -> LicenseKey:
        (key,) = self.keys()
        return key


def app_session(app) -> Session:
    """A session as a request of the app has one: its writes take SQLite's write lock up front (the test's `db`
    reads from a snapshot, and a write from it fails once the served app has written since)."""
    return Session(app.extensions["db_engine"], expire_on_commit=False)


def connect_vendor(app, db, standin, vendor, *, webhook_url: str | None) -> str:
    account = standin.create_account(name=f"{vendor.name} Stripe")
    # As create_app does with STRIPE_API_BASE set: the gateway talks to the stand-in, and the CSP lets a form's
    # redirect go on to its Checkout and Billing Portal pages.
    app.config["STRIPE_API_BASE"] = standin.url
    app.config["CONTENT_SECURITY_POLICY"] = content_security_policy(standin.url)
    app.extensions["stripe_access"] = StripeAccess(app.extensions["encryptor"], standin.url)
    with app_session(app) as session:
        connection.connect(session, app.extensions["stripe_access"], vendor_id=vendor.id,
                           secret_key=account.secret_key, webhook_secret=SIGNING_SECRET, actor="test")
        session.commit()
    if webhook_url:
        standin.register_webhook(account.secret_key, f"{webhook_url}/stripe/webhook/{vendor.slug}", SIGNING_SECRET)
    return account.secret_key


def roll_key(app, db, vendor, secret_key: str) -> None:
    """The vendor's stored key replaced behind the portal's back, as by a key rolled in Stripe after connecting."""
    with app_session(app) as session:
        stored = session.exec(select(StripeConnection).where(StripeConnection.vendor_id == vendor.id)).one()
        stored.secret_key_encrypted = app.extensions["encryptor"].encrypt(secret_key)
        session.add(stored)
        session.commit()


def linked_prices(app, vendor, product) -> tuple[str, str]:
    access = app.extensions["stripe_access"]
    ids = []
    for amount, interval, skm in (("9.99", "month", Skm(features={"f1": True}, max_no_of_machines=2)),
                                  ("99", "year", Skm(features={"f1": True, "f2": True}, max_no_of_machines=5))):
        with app_session(app) as session:
            row = plans.create_price(session, access, vendor_id=vendor.id, product_id=product.id, amount=amount,
                                     currency="usd", interval=interval, actor="test")
            session.commit()
            plans.change_settings(session, access, vendor_id=vendor.id, product_id=product.id, price_id=row.id,
                                  skm=skm, actor="test")
            session.commit()
            ids.append(row.stripe_price_id)
    return ids[0], ids[1]


@pytest.fixture
def shop(app, db, stripe_standin, vendor, served_app) -> Shop:  # noqa: F811 - the fixture imported above
    with app_session(app) as session:
        product = create_product(session, vendor_id=vendor.id, actor="test", name="Demo App", f1_name="Pro",
                                 f2_name="Export")
        session.commit()
    secret_key = connect_vendor(app, db, stripe_standin, vendor, webhook_url=served_app)
    monthly, yearly = linked_prices(app, vendor, product)
    return Shop(app, db, stripe_standin, vendor, secret_key, product, monthly, yearly)


def price_row(db, stripe_price_id: str) -> StripePrice:
    return db.exec(select(StripePrice).where(StripePrice.stripe_price_id == stripe_price_id)).one()
