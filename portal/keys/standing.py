"""The vendor's keys across its products by where they stand, as the home counts them and its tiles list them:
active (not blocked and not past their expiry), expiring (active, ending within 14 days with neither a renewal nor
a countdown from activation to move the day) and blocked."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import tuple_
from sqlmodel import Session, col, select

from portal.keys import countdown
from portal.keys.status import EXPIRING_WITHIN
from portal.models import Customer, LicenseKey, Product


@dataclass(frozen=True)
class Standing:
    title: str
    empty: str  # what the list says when no key stands so
    note: str = ""  # what it says under its title


ACTIVE, EXPIRING, BLOCKED = "active", "expiring", "blocked"
STANDINGS = {
    ACTIVE: Standing("Active keys", "No key is active: the keys you make, and those subscriptions make, show here."),
    EXPIRING: Standing("Keys expiring in 14 days", "No key expires in the next 14 days.",
                       "A key whose period starts at its activation shows here once a machine has started it."),
    BLOCKED: Standing("Blocked keys", "No key is blocked."),
}
_EPOCH, _MICROSECOND = datetime(1970, 1, 1, tzinfo=UTC), timedelta(microseconds=1)


def conditions(standing: str, *, vendor_id: int, now: datetime) -> list:
    """The WHERE of a standing (one of STANDINGS); the index (vendor_id, block, expires, renews_on) serves each."""
    key = LicenseKey
    if standing == BLOCKED:
        return [key.vendor_id == vendor_id, col(key.block).is_(True)]
    live = [key.vendor_id == vendor_id, col(key.block).is_(False), key.expires > now]
    if standing == ACTIVE:
        return live
    # A key no machine has started runs its period from activation: its expiry is not a day it ends.
    return [*live, key.expires <= now + EXPIRING_WITHIN, col(key.renews_on).is_(None), ~countdown.not_started()]


def keys_standing(session: Session, *, vendor_id: int, standing: str, after: str, limit: int,
                  now: datetime) -> tuple[list, str | None]:
    """One page of the standing's keys, each with its product's name and its customer, soonest expiry first (then
    by id), from after the place `after` names (a `next_after` of the page before; anything else: the first page);
    and the place the next page starts after (None on the last). The place is the last key's expiry and id
    themselves, so that a key renewed or deleted between two pages moves no other across the boundary."""
    key = LicenseKey
    where = conditions(standing, vendor_id=vendor_id, now=now)
    place = _place(after)
    if place is not None:
        where += [key.expires >= place[0], tuple_(key.expires, key.id) > tuple_(*place)]  # the first: an index range
    rows = session.exec(select(key, Product.name, Customer).join(Product, Product.id == key.product_id)
                        .outerjoin(Customer, Customer.id == key.customer_id)
                        .where(*where).order_by(key.expires, key.id).limit(limit + 1)).all()
    last = rows[limit - 1][0] if len(rows) > limit else None
    return rows[:limit], f"{(last.expires - _EPOCH) // _MICROSECOND}.{last.id}" if last is not None else None


def _place(after: str) -> tuple[datetime, int] | None:
    """The expiry (in microseconds since 1970) and id a `next_after` names."""
    found = re.fullmatch(r"(\d{1,18})\.(\d{1,10})", after)
    if found is None:
        return None
    microseconds, key_id = (int(number) for number in found.groups())
    try:
        return _EPOCH + microseconds * _MICROSECOND, key_id
    except OverflowError:
        return None
