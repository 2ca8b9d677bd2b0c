"""Two vendors with records of every kind, for the tests of who may name, change and see what."""

import io
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from PIL import Image
from sqlmodel import SQLModel

from portal.accounts import services as accounts
from portal.billing_models import StripeDrift, StripePrice, Subscription
from portal.branding import services as branding
from portal.dataobjects import services as dataobjects
from portal.keys import services as keys
from portal.models import KeyBatch, PendingLogin, utcnow
from portal.products import services as products
from portal.security import new_token, token_digest
from portal.vendors import password_reset, registration
from tests.support.factories import CUSTOMER_PASSWORD


def tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (51, 102, 153)).save(out, "PNG")
    return out.getvalue()


def db_rows(app) -> dict[str, list]:
    """Every row of every table, read outside the app's and the test's sessions."""
    with app.extensions["db_read_engine"].connect() as connection:
        return {table.name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
                for table in SQLModel.metadata.sorted_tables}


@dataclass
class World:
    """Two vendors with records of every kind; of the first, our customer with a login and a neighbour customer.

    `own`, `foreign` and `neighbour` hold record ids by kind (`customer_id`, `key_id`, ...): ours, another
    vendor's, and the first vendor's but another customer's (or a record under another parent).
    """

    slug: str
    other_slug: str
    own: dict[str, int]
    foreign: dict[str, int]
    neighbour: dict[str, int]
    texts: dict[str, dict[str, str]]  # "foreign" or "neighbour" -> kind -> what a page shows of that record
    foreign_login: dict[str, str]  # the e-mail and password of the other vendor's portal account
    foreign_link: str  # the query string of the other vendor's customer's association link
    foreign_tokens: dict[str, str]  # by page, a live token of the other vendor's: reset, e-mail, sign-up
    query: dict[str, str] = field(default_factory=dict)  # endpoint -> the query string its real link carries

    def ids(self, owner: str) -> dict[str, int]:
        return {"own": self.own, "foreign": self.foreign, "neighbour": self.neighbour}[owner]

    def url(self, route, *, slug: str | None = None, ids: dict | None = None) -> str:
        path = route.path(slug or self.slug, self.own if ids is None else ids)
        query = self.query.get(route.endpoint)
        return f"{path}?{query}" if query else path

    def login_url(self, route, slug: str | None = None) -> str:
        return "/vendor/login" if route.side == "vendor" else f"/Portal/@{slug or self.slug}/Login"


def _records(make, db, vendor, customer, account, label: str, *, product=None) -> tuple[dict, dict]:
    """A product, a key of `customer` with a machine, a key batch and a data object: by kind, their ids and
    what a page shows of them (a name, an e-mail, the key, the machine code)."""
    product = product or make.product(vendor, name=f"{label} product")
    key = make.key(product, customer=customer, machines=(f"{label}-machine",))
    [machine] = keys.machines_of(db, key_ids=[key.id])[key.id]
    batch = KeyBatch(vendor_id=vendor.id, product_id=product.id, requested=1, settings="{}", status="done")
    db.add(batch)
    data_object = dataobjects.add_object(db, vendor_id=vendor.id, name=f"{label}-colour", actor="test")
    price = StripePrice(vendor_id=vendor.id, product_id=product.id, stripe_price_id=f"price_{label}",
                        unit_amount=999, currency="usd", interval="month")
    subscription = Subscription(vendor_id=vendor.id, stripe_subscription_id=f"sub_{label}", customer_id=customer.id,
                                product_id=product.id, status="active", key_id=key.id, key_written=True)
    drift = StripeDrift(vendor_id=vendor.id, kind="customer_unlinked", stripe_id=f"cus_{label}", detail="test")
    db.add_all([price, subscription, drift])
    db.flush()
    ids = {"customer_id": customer.id, "account_id": account.id, "product_id": product.id, "key_id": key.id,
           "machine_id": machine.id, "batch_id": batch.id, "object_id": data_object.id, "price_id": price.id,
           "subscription_id": subscription.id, "drift_id": drift.id}
    texts = {"customer_id": customer.name, "account_id": account.email, "product_id": product.name,
             "key_id": key.key, "machine_id": machine.mid, "object_id": data_object.name,
             "subscription_id": subscription.stripe_subscription_id, "drift_id": drift.stripe_id}
    db.commit()
    return ids, texts


def build_world(make, db, vendor, other_vendor, customer, account) -> World:
    customer.allow_activation_management = True  # so that freeing a machine turns on whose it is, not on a 403
    db.add(customer)
    db.commit()
    # More than one login may join it: its association link opens for another while it has one.
    neighbour = make.customer(vendor, name="Neighbour Customer", association=True, allow_multiple_user_association=True)
    neighbour_account = make.account(vendor, neighbour, email="neighbour@example.test")
    foreign_customer = make.customer(other_vendor, name="Globex Buyer", association=True)
    foreign_account = make.account(other_vendor, foreign_customer, email="buyer@example.test")
    own, _texts = _records(make, db, vendor, customer, account, "acme")
    theirs, neighbour_texts = _records(make, db, vendor, neighbour, neighbour_account, "neighbour",
                                       product=products.get_product(db, vendor_id=vendor.id,
                                                                    product_id=own["product_id"]))
    foreign, foreign_texts = _records(make, db, other_vendor, foreign_customer, foreign_account, "globex")
    # A price of ours under another product: named under our product, it is not there.
    elsewhere = StripePrice(vendor_id=vendor.id, product_id=make.product(vendor, name="acme other product").id,
                            stripe_price_id="price_elsewhere", unit_amount=500, currency="usd", interval="year")
    db.add(elsewhere)
    for owner in (vendor, other_vendor):  # each portal has a logo to serve (without one, its address is a 404)
        branding.update_brand(db, vendor=owner, accent_color="#336699", support_contact="", site_url="",
                              logo=tiny_png(), actor="test")
    db.commit()
    reset = accounts.issue_token(db, account=account, purpose=accounts.RESET_PASSWORD)
    with make.app.app_context():
        vendor_reset = password_reset.token_for(make.owner(vendor))
        registering = registration.token_for(registration.Asked("Newco", "newco", "boss@newco.test"))
    verify = accounts.issue_token(db, account=account, purpose=accounts.VERIFY_EMAIL)
    confirm, foreign_confirm = new_token(), new_token()
    for owner, token in ((vendor, confirm), (other_vendor, foreign_confirm)):
        db.add(PendingLogin(vendor_id=owner.id, email=f"pending@{owner.slug}.test", password_hash="unused",
                            token_hash=token_digest(token), expires_at=utcnow() + timedelta(hours=1)))
    foreign_tokens = {page: accounts.issue_token(db, account=foreign_account, purpose=purpose)
                      for page, purpose in (("ResetPassword", accounts.RESET_PASSWORD),
                                            ("VerifyEmail", accounts.VERIFY_EMAIL))}
    foreign_tokens["Confirm"] = foreign_confirm
    db.commit()
    neighbour_kinds = ("customer_id", "account_id", "key_id", "machine_id")
    return World(
        slug=vendor.slug,
        other_slug=other_vendor.slug,
        own=own,
        foreign=foreign,
        neighbour={**{kind: theirs[kind] for kind in neighbour_kinds}, "price_id": elsewhere.id},
        texts={"foreign": foreign_texts, "neighbour": {kind: neighbour_texts[kind] for kind in neighbour_kinds}},
        foreign_login={"email": foreign_account.email, "password": CUSTOMER_PASSWORD},
        foreign_link=urlsplit(make.association_link(other_vendor, foreign_customer)).query,
        foreign_tokens=foreign_tokens,
        query={
            "accounts.reset_password": urlencode({"token": reset}),
            "vendors.reset_password": urlencode({"token": vendor_reset}),
            "vendors.finish_registration": urlencode({"token": registering}),
            "accounts.verify_email": urlencode({"token": verify}),
            "signup.confirm": urlencode({"token": confirm}),
            "signup.associate": urlsplit(make.association_link(vendor, neighbour)).query,
        },
    )
