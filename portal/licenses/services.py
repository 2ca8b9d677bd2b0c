"""A customer's licenses as the portal shows them: keys with their product and machines, in two queries."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from portal.domain import DomainError, NotFound
from portal.keys import services as keys
from portal.models import ActivatedMachine, Customer, LicenseKey, Product

EXPIRING_WITHIN = timedelta(days=14)


@dataclass
class License:
    key: LicenseKey
    product: Product
    machines: list[ActivatedMachine]

    def status(self, now: datetime) -> str:
        if self.key.block:
            return "blocked"
        if self.key.expires <= now:
            return "expired"
        if self.key.expires - now <= EXPIRING_WITHIN:
            return "expiring"
        return "active"

    @property
    def masked_key(self) -> str:
        first, *_middle, last = self.key.key.split("-")
        return f"{first}-•••••-•••••-{last}"

    @property
    def feature_names(self) -> list[str]:
        return [self.product.feature_name(n) for n in range(1, 9) if getattr(self.key, f"f{n}")]


def licenses_of(session: Session, *, customer_id: int) -> list[License]:
    rows = session.exec(select(LicenseKey, Product).join(Product, Product.id == LicenseKey.product_id)
                        .where(LicenseKey.customer_id == customer_id)
                        .order_by(Product.name, LicenseKey.key_number)).all()
    machines = keys.machines_of(session, key_ids=[key.id for key, _ in rows])
    return [License(key=key, product=product, machines=machines[key.id]) for key, product in rows]


def license_of(session: Session, *, customer_id: int, key_id: int) -> License:
    """One of the customer's licenses; any other key is not found."""
    row = session.exec(select(LicenseKey, Product).join(Product, Product.id == LicenseKey.product_id)
                       .where(LicenseKey.id == key_id, LicenseKey.customer_id == customer_id)).first()
    if row is None:
        raise NotFound()
    key, product = row
    return License(key=key, product=product, machines=keys.machines_of(session, key_ids=[key.id])[key.id])


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
