"""Plans: the Stripe prices linked to a product here, Cryptolens' way.

The Stripe product carries `skm_product_id` (the product here), each price carries `skm` (the key settings a
subscriber gets). The portal keeps a copy of each linked price, read from Stripe when it is linked, created,
changed or refreshed; the product page reads the copy.
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision, is_currency
from sqlmodel import Session, select

from portal.audit import record_change
from portal.billing.connection import StripeAccess, connected, connection_of
from portal.billing.gateway import Gateway, StripeRefused, StripeUnavailable
from portal.billing.scope import hidden_note
from portal.billing.skm import Skm, parse_skm
from portal.billing_models import StripeConnection, StripePrice, of_the_connection, scope_of
from portal.domain import DomainError, NotFound, each_checked, get_owned
from portal.models import Product, utcnow
from portal.rules import is_single_line, is_stripe_id

INTERVALS = {"day": "day", "week": "week", "month": "month", "year": "year"}
AMOUNT_MAX = Decimal("999999.99")
STRIPE_PRODUCT_ID = "skm_product_id"


def prices_of(session: Session, *, vendor_id: int, product_id: int) -> list[StripePrice]:
    """The product's linked prices in the account and mode Stripe is connected in (another's mean nothing to it)."""
    return list(session.exec(select(StripePrice)
                             .join(StripeConnection, StripeConnection.vendor_id == StripePrice.vendor_id)
                             .where(StripePrice.vendor_id == vendor_id, StripePrice.product_id == product_id,
                                    of_the_connection(StripePrice, StripeConnection))
                             .order_by(StripePrice.currency, StripePrice.unit_amount, StripePrice.id)).all())


def plans_section(session: Session, *, vendor_id: int, product_id: int) -> dict:
    """What the product page shows of its plans: each linked price with its label and key settings, and a word on
    the prices of another Stripe account or mode, which it hides."""
    rows = prices_of(session, vendor_id=vendor_id, product_id=product_id)
    connection = connection_of(session, vendor_id=vendor_id)
    return {"prices": [(row, price_label(row), parse_skm(row.skm)[0], plan_name(row)) for row in rows],
            "stripe_connected": connection.connected,
            "hidden_prices": hidden_note(session, connection, StripePrice, "price",
                                         StripePrice.product_id == product_id)}


INTERVAL_NAMES = {"day": "Daily", "week": "Weekly", "month": "Monthly", "year": "Yearly"}


def plan_name(price: StripePrice) -> str:
    """What tells a product's plans apart: the price's nickname, else its interval ("Monthly", "Every 3 months")."""
    if price.nickname:
        return price.nickname
    if not price.interval:
        return "One payment"
    if price.interval_count == 1:
        return INTERVAL_NAMES.get(price.interval, f"Every {price.interval}")
    return f"Every {price.interval_count} {price.interval}s"


def price_label(price: StripePrice) -> str:
    """"$9.99 / month", formatted by Babel for the price's currency."""
    if price.unit_amount is None or not price.currency:
        return "No fixed amount"
    amount = Decimal(price.unit_amount).scaleb(-get_currency_precision(price.currency.upper()))
    every = price.interval if price.interval_count == 1 else f"{price.interval_count} {price.interval}s"
    return f"{format_currency(amount, price.currency.upper(), locale='en')} / {every}" if every else \
        format_currency(amount, price.currency.upper(), locale="en")


def _connection(session: Session, vendor_id: int) -> StripeConnection:
    connection = connected(session, vendor_id=vendor_id)
    if connection is None:
        raise DomainError("Connect Stripe in Settings first.")
    return connection


def _gateway(session: Session, access: StripeAccess, vendor_id: int) -> Gateway:
    return access.gateway(_connection(session, vendor_id))


def _stripe(session: Session, call, *args, field: str | None = None, **kwargs) -> dict:
    """A call to Stripe, with no transaction open (on SQLite, no write lock held) while it waits; Stripe's
    refusal as a message at `field`."""
    session.commit()
    try:
        return call(*args, **kwargs)
    except (StripeRefused, StripeUnavailable) as error:
        raise DomainError(f"Stripe answered: {error}", field=field) from None


def _record(session: Session, row: StripePrice, price: dict) -> StripePrice:
    session.add(_read(row, price))
    return row


def _read(row: StripePrice, price: dict) -> StripePrice:
    """The row holds what Stripe says of the price."""
    recurring = price.get("recurring") or {}
    product = price.get("product")
    row.stripe_product_id = product.get("id", "") if isinstance(product, dict) else str(product or "")
    row.nickname = (price.get("nickname") or "")[:200]
    row.unit_amount, row.currency = price.get("unit_amount"), (price.get("currency") or "")[:3]
    row.interval, row.interval_count = (recurring.get("interval") or "")[:8], recurring.get("interval_count") or 1
    row.active = bool(price.get("active", True))
    row.skm = (price.get("metadata") or {}).get("skm") or ""
    row.problem = parse_skm(row.skm)[1]
    row.refreshed_at = utcnow()
    return row


@dataclass(frozen=True)
class Linkable:
    """A recurring price of the vendor's Stripe account that no product here has yet."""

    stripe_price_id: str
    label: str  # "$9.99 / month"
    name: str  # its Stripe product's name, and its nickname


def linkable_prices(session: Session, access: StripeAccess, *,
                    vendor_id: int) -> tuple[list[Linkable], int, str]:
    """The newest hundred active recurring prices of the vendor's Stripe account that are linked to no product here,
    to pick from; how many of them are linked already (none of either: the account has no such price yet); and what
    Stripe answered instead, if it did not list them."""
    try:
        found = _stripe(session, _gateway(session, access, vendor_id).recurring_prices)
    except DomainError as error:
        return [], 0, error.message
    linked = set(session.exec(select(StripePrice.stripe_price_id).where(StripePrice.vendor_id == vendor_id)).all())
    choices = []
    for price in found:
        if price["id"] in linked:
            continue
        product = price.get("product")
        product_name = product.get("name", "") if isinstance(product, dict) else ""
        choices.append(Linkable(price["id"], price_label(_read(StripePrice(), price)),
                                " · ".join(part for part in (product_name, price.get("nickname") or "") if part)))
    return choices, len(found) - len(choices), ""


def _linked(session: Session, vendor_id: int, stripe_price_id: str) -> StripePrice | None:
    return session.exec(select(StripePrice).where(StripePrice.vendor_id == vendor_id,
                                                  StripePrice.stripe_price_id == stripe_price_id)).first()


def link_price(session: Session, access: StripeAccess, *, vendor_id: int, product_id: int, stripe_price_id: str,
               actor: str, ip: str = "") -> StripePrice:
    """Link an existing recurring Stripe price; its Stripe product is marked with this product's id."""
    product = get_owned(session, Product, product_id, vendor_id=vendor_id)
    stripe_price_id = stripe_price_id.strip()
    if not is_stripe_id(stripe_price_id, "price_"):
        raise DomainError("Paste a price id from Stripe (price_…).", field="stripe_price_id")
    existing = _linked(session, vendor_id, stripe_price_id)
    if existing is not None:
        other = session.get(Product, existing.product_id)
        raise DomainError("That price is linked already." if existing.product_id == product.id else
                          f"That price is linked to {other.name if other else 'another product'}: unlink it there "
                          "first.", field="stripe_price_id")
    connection = _connection(session, vendor_id)
    gateway = access.gateway(connection)
    price = _stripe(session, gateway.price, stripe_price_id, field="stripe_price_id")
    if not price.get("recurring"):
        raise DomainError("That price is not recurring: a subscription needs a monthly, yearly… price.",
                          field="stripe_price_id")
    stripe_product = price.get("product") or {}
    marked = (stripe_product.get("metadata") or {}).get(STRIPE_PRODUCT_ID)
    if marked and marked != str(product.id):
        raise DomainError(f"That price's Stripe product belongs to product {marked}.", field="stripe_price_id")
    if not marked:
        _stripe(session, gateway.update_product_metadata, stripe_product["id"], {STRIPE_PRODUCT_ID: str(product.id)})
    row = _record(session, StripePrice(vendor_id=vendor_id, product_id=product.id, stripe_price_id=stripe_price_id,
                                       **scope_of(connection)), price)
    session.flush()
    _audit(session, row, actor, "stripe_price.linked", ip)
    return row


_THOUSANDS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?")
_PLAIN_AMOUNT = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")


def valid_amount(amount: str) -> str:
    """A price typed as a person writes one: digits and a decimal point (a comma only between thousands), as digits
    and a point. What Python's Decimal also reads (1e3, 1_000, other scripts' digits) is refused: a vendor who typed
    it meant something else than the amount it gives."""
    amount = amount.strip()
    if "," in amount and not _THOUSANDS.fullmatch(amount):  # 19,99 is not 1999: a comma only groups thousands
        raise DomainError("Write the decimals after a point, as in 19.99.", field="amount")
    if not _PLAIN_AMOUNT.fullmatch(amount.replace(",", "")):
        raise DomainError("Give the amount in digits with a decimal point, such as 9.99.", field="amount")
    amount = amount.replace(",", "")
    if not Decimal("0") < Decimal(amount) <= AMOUNT_MAX:
        raise DomainError(f"Give an amount above 0 and at most {AMOUNT_MAX:,}.", field="amount")
    return amount


def _in_minor_units(amount: str, currency: str) -> int:
    """The amount in the currency's smallest unit (cents), as Stripe takes it; refused with more decimals than the
    currency has."""
    decimals = get_currency_precision(currency.upper())
    minor = Decimal(amount).scaleb(decimals)
    if minor != minor.to_integral_value():
        raise DomainError(f"{currency.upper()} amounts have " + (f"at most {decimals} decimals." if decimals else
                                                                 "no decimals."), field="amount")
    return int(minor)


def valid_currency(currency: str) -> str:
    currency = currency.strip().lower()
    if not (len(currency) == 3 and is_currency(currency.upper())):
        raise DomainError("Give a currency code such as USD or EUR.", field="currency")
    return currency


def _interval(interval: str) -> str:
    if interval not in INTERVALS:
        raise DomainError("Choose how often the customer pays.", field="interval")
    return interval


def create_price(session: Session, access: StripeAccess, *, vendor_id: int, product_id: int, amount: str,
                 currency: str, interval: str, actor: str, ip: str = "", name: str = "") -> StripePrice:
    """A new recurring price in Stripe, on the Stripe product of this product (made if it has none yet), named
    `name` for customers (its nickname; none: how often it is billed)."""
    product = get_owned(session, Product, product_id, vendor_id=vendor_id)
    checked = each_checked({"amount": lambda: valid_amount(amount), "currency": lambda: valid_currency(currency),
                            "interval": lambda: _interval(interval), "name": lambda: _plan_name(name)})
    currency, interval = checked["currency"], checked["interval"]
    unit_amount = _in_minor_units(checked["amount"], currency)
    connection = _connection(session, vendor_id)
    gateway = access.gateway(connection)
    linked = next((p for p in prices_of(session, vendor_id=vendor_id, product_id=product.id)
                   if p.stripe_product_id), None)
    if linked is not None:
        stripe_product_id = linked.stripe_product_id
    else:
        mode = "live" if connection.livemode else "test"
        stripe_product_id = _stripe(session, gateway.create_product, name=product.name,
                                    metadata={STRIPE_PRODUCT_ID: str(product.id)},
                                    idempotency_key=f"skm-product-{vendor_id}-{product.id}-{mode}")["id"]
    price = _stripe(session, gateway.create_price, stripe_product_id=stripe_product_id, unit_amount=unit_amount,
                    currency=currency, interval=interval, metadata={"skm": Skm().to_json()}, nickname=checked["name"])
    row = _record(session, StripePrice(vendor_id=vendor_id, product_id=product.id, stripe_price_id=price["id"],
                                       **scope_of(connection)), price)
    session.flush()
    _audit(session, row, actor, "stripe_price.created", ip)
    return row


PLAN_NAME_MAX = 100


def _plan_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) > PLAN_NAME_MAX or not is_single_line(name):
        raise DomainError(f"Give a plan name of at most {PLAN_NAME_MAX} characters on one line.", field="name")
    return name


def linked_price(session: Session, *, vendor_id: int, product_id: int, price_id: int) -> StripePrice:
    """The vendor's price linked to this product, in the account and mode Stripe is connected in (NotFound under
    any other product or account and mode, as for another vendor's)."""
    row = get_owned(session, StripePrice, price_id, vendor_id=vendor_id)
    if row.product_id != product_id or not connection_of(session, vendor_id=vendor_id).holds(row):
        raise NotFound()
    return row


def change_settings(session: Session, access: StripeAccess, *, vendor_id: int, product_id: int, price_id: int,
                    skm: Skm, actor: str, ip: str = "", name: str | None = None) -> StripePrice:
    """Write new key settings to the price's `skm` in Stripe (and its name for customers, unless None), then keep
    what Stripe answered."""
    row = linked_price(session, vendor_id=vendor_id, product_id=product_id, price_id=price_id)
    name = row.nickname if name is None else _plan_name(name)
    gateway = _gateway(session, access, vendor_id)
    before = {"price": row.stripe_price_id, "skm": row.skm, "name": row.nickname}
    price = _stripe(session, gateway.update_price, row.stripe_price_id, metadata={"skm": skm.to_json()},
                    nickname=name)
    _record(session, row, price)
    _audit(session, row, actor, "stripe_price.changed", ip, before=before)
    return row


def refresh_prices(session: Session, access: StripeAccess, *, vendor_id: int, product_id: int) -> int:
    """Read every linked price of the product again from Stripe; returns how many were read."""
    gateway = _gateway(session, access, vendor_id)
    rows = prices_of(session, vendor_id=vendor_id, product_id=product_id)
    for row in rows:
        _record(session, row, _stripe(session, gateway.price, row.stripe_price_id))
    return len(rows)


def namesakes(session: Session, *, vendor_id: int, row: StripePrice) -> list[StripePrice]:
    """The other plans of the price's product on offer that customers see by the same name."""
    return [other for other in prices_of(session, vendor_id=vendor_id, product_id=row.product_id)
            if other.id != row.id and other.offered and plan_name(other) == plan_name(row)]


def set_offered(session: Session, *, vendor_id: int, product_id: int, price_id: int, offered: bool, actor: str,
                ip: str = "") -> StripePrice:
    """Offer the plan to customers in the portal (Subscribe), or stop offering it (subscribers keep it)."""
    row = linked_price(session, vendor_id=vendor_id, product_id=product_id, price_id=price_id)
    if offered and (row.unit_amount is None or not row.interval or not row.active):
        raise DomainError("Only an active recurring price with an amount can be offered.")
    row.offered = offered
    session.add(row)
    _audit(session, row, actor, "stripe_price.offered" if offered else "stripe_price.withdrawn", ip)
    return row


def unlink_price(session: Session, *, vendor_id: int, product_id: int, price_id: int, actor: str,
                 ip: str = "") -> None:
    """Forget the link here (Stripe keeps the price; subscriptions to it keep their keys)."""
    row = linked_price(session, vendor_id=vendor_id, product_id=product_id, price_id=price_id)
    _audit(session, row, actor, "stripe_price.unlinked", ip)
    session.delete(row)


def _audit(session: Session, row: StripePrice, actor: str, action: str, ip: str, before: dict | None = None):
    record_change(session, vendor_id=row.vendor_id, actor=actor, action=action, subject_type="product",
                  subject_id=row.product_id, before=before,
                  after={"price": row.stripe_price_id, "skm": row.skm, "name": row.nickname}, ip=ip)
