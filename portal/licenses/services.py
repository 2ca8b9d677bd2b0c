"""A customer's licenses as the portal shows them: keys with their product and machines, in one query."""

from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam
from sqlmodel import Session, select

from portal.billing_models import ENDED, OVERDUE, Subscription
from portal.domain import DomainError, NotFound
from portal.keys import countdown
from portal.keys import services as keys
from portal.keys.status import status_of
from portal.models import ActivatedMachine, Customer, LicenseKey, Product, feature_label

_FEATURES = range(1, 9)


class ProductRef(NamedTuple):
    """What a license shows of its product: the name, the names of features F1-F8, how to get started and where
    to download it."""

    id: int
    name: str
    feature_names: tuple[str, ...]
    getting_started: str = ""
    download_url: str = ""

    @classmethod
    def of(cls, product: Any) -> "ProductRef":
        return cls(product.id, product.name, tuple(product.feature_name(n) for n in _FEATURES),
                   product.getting_started, product.download_url)


class PaidBy(NamedTuple):
    """The Stripe subscription a key is paid by, as its card tells why a key without a renewal day ends."""

    status: str
    cancel_at_period_end: bool
    current_period_end: datetime | None

    def why_not_renewing(self, expires: datetime) -> str | None:
        """Why a key it pays for (expiring at `expires`) has no renewal day, in the words of the key's card; None
        when the subscription gives no reason (paused, or of a Stripe account the vendor no longer uses)."""
        if self.status in ENDED:
            return "its subscription has ended"
        if self.status in OVERDUE:
            return "its subscription's last payment failed; update your card under Manage billing"
        if not self.cancel_at_period_end or self.current_period_end is None:
            return None
        grace = (expires - self.current_period_end).days
        past = f", and the license runs {grace} day{'s' if grace != 1 else ''} past it" if grace > 0 else ""
        return f"its subscription ends on {self.current_period_end:%Y-%m-%d}{past}"


@dataclass(slots=True)
class License:
    """One key of the customer's: `key` is the ORM row or, on the read-only pages, a plain row of its columns."""

    key: Any
    product: ProductRef
    machines: list
    paid_by: PaidBy | None = None  # the Stripe subscription paying for it, if any

    def status(self, now: datetime) -> str:
        return status_of(self.key, now)

    @property
    def starts_at_activation(self) -> bool:
        """No machine has started the key's countdown: its period runs from its first activation."""
        return countdown.unstarted(self.key)

    @property
    def key_ends(self) -> tuple[str, str]:
        """The first and last groups of the key: what the portal shows until the customer reveals the key."""
        first, *_middle, last = self.key.key.split("-")
        return first, last

    @property
    def feature_names(self) -> list[str]:
        key, names = self.key, self.product.feature_names
        return [names[n - 1] for n in _FEATURES if getattr(key, f"f{n}")]


# Built once from the tables (the dashboard runs it on every visit): only the customer's id changes between
# requests, a Core statement runs without the ORM's bookkeeping, and only the columns a license shows are read.
# One statement: the keys with their product's names and, joined, their machines (a key with none gives one row).
_keys, _products, _machines = LicenseKey.__table__, Product.__table__, ActivatedMachine.__table__
_subscriptions = Subscription.__table__
_KEY_COLUMNS = ("id", "product_id", "key_number", "key", "expires", "block", *(f"f{n}" for n in _FEATURES),
                "max_no_of_machines", "renews_on", "period", "trial_activation", "countdown_starts")
_MACHINE_COLUMNS = ("id", "key_id", "mid", "friendly_name", "time")
KeyRecord = namedtuple("KeyRecord", _KEY_COLUMNS)
MachineRecord = namedtuple("MachineRecord", _MACHINE_COLUMNS)
_LICENSES_OF_CUSTOMER = (
    select(*(_keys.c[name] for name in _KEY_COLUMNS), _products.c.name,
           *(_products.c[f"f{n}_name"] for n in _FEATURES), _products.c.getting_started,
           _products.c.download_url, *(_subscriptions.c[name] for name in PaidBy._fields),
           *(_machines.c[name] for name in _MACHINE_COLUMNS))
    .join(_products, _products.c.id == _keys.c.product_id)
    .outerjoin(_subscriptions, _subscriptions.c.key_id == _keys.c.id)  # at most one: a key is one subscription's
    .outerjoin(_machines, _machines.c.key_id == _keys.c.id)
    .where(_keys.c.customer_id == bindparam("customer_id"))
    .order_by(_products.c.name, _keys.c.key_number, _machines.c.time, _machines.c.id))
_PRODUCT_AT = len(_KEY_COLUMNS)
_START_AT = _PRODUCT_AT + 1 + len(_FEATURES)
_PAID_BY_AT = _START_AT + 2
_MACHINE_AT = _PAID_BY_AT + len(PaidBy._fields)


def licenses_of(session: Session, *, customer_id: int) -> list[License]:
    """The customer's keys, read only (records of the columns a license shows), by product name and key ID."""
    products: dict[int, ProductRef] = {}
    licenses: list[License] = []
    for row in session.connection().execute(_LICENSES_OF_CUSTOMER, {"customer_id": customer_id}):
        if not licenses or licenses[-1].key.id != row[0]:
            key = KeyRecord._make(row[:_PRODUCT_AT])
            product = products.get(key.product_id)
            if product is None:
                names = zip(_FEATURES, row[_PRODUCT_AT + 1:_START_AT], strict=True)
                product = products[key.product_id] = ProductRef(
                    key.product_id, row[_PRODUCT_AT], tuple(feature_label(n, name) for n, name in names),
                    *row[_START_AT:_PAID_BY_AT])
            paid_by = PaidBy._make(row[_PAID_BY_AT:_MACHINE_AT]) if row[_PAID_BY_AT] is not None else None
            licenses.append(License(key=key, product=product, machines=[], paid_by=paid_by))
        if row[_MACHINE_AT] is not None:
            licenses[-1].machines.append(MachineRecord._make(row[_MACHINE_AT:]))
    return licenses


def license_of(session: Session, *, customer_id: int, key_id: int) -> License:
    """One of the customer's licenses; any other key is not found."""
    row = session.exec(select(LicenseKey, Product).join(Product, Product.id == LicenseKey.product_id)
                       .where(LicenseKey.id == key_id, LicenseKey.customer_id == customer_id)).first()
    if row is None:
        raise NotFound()
    key, product = row
    machines = keys.machines_of(session, key_ids=[key.id])[key.id]
    paid_by = session.exec(select(*(getattr(Subscription, name) for name in PaidBy._fields))
                           .where(Subscription.key_id == key.id)).first()
    return License(key=key, product=ProductRef.of(product), machines=machines,
                   paid_by=PaidBy._make(paid_by) if paid_by is not None else None)


def deactivate_own_machine(session: Session, *, customer: Customer, key_id: int, machine_id: int, actor: str,
                           ip: str = "") -> tuple[License, ActivatedMachine]:
    """The customer frees a machine slot, if the vendor allows it; returns the license after and the machine."""
    found = license_of(session, customer_id=customer.id, key_id=key_id)
    machine = next((m for m in found.machines if m.id == machine_id), None)
    if machine is None:
        raise NotFound()
    if not customer.allow_activation_management:
        raise DomainError("Machines of this account are managed by the vendor.")
    keys.deactivate_machine(session, key=found.key, machine_id=machine_id, actor=actor, ip=ip)
    found.machines.remove(machine)
    return found, machine
