"""The vendor's keys across its products by where they stand, as the home counts them and its tiles list them:
active (not blocked and not past their expiry), expiring (active, ending within 14 days with neither a renewal nor
a countdown from activation to move the day) and blocked."""

from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from portal.keys import countdown
from portal.keys.status import EXPIRING_WITHIN
from portal.models import Customer, LicenseKey, Product

STANDINGS = {"active": "Active keys", "expiring": "Keys expiring within 14 days", "blocked": "Blocked keys"}


def conditions(standing: str, *, vendor_id: int, now: datetime) -> list:
    """The WHERE of a standing (one of STANDINGS); the index (vendor_id, block, expires, renews_on) serves each."""
    key = LicenseKey
    if standing == "blocked":
        return [key.vendor_id == vendor_id, col(key.block).is_(True)]
    live = [key.vendor_id == vendor_id, col(key.block).is_(False), key.expires > now]
    if standing == "active":
        return live
    # A key no machine has started runs its period from activation: its expiry is not a day it ends.
    return [*live, key.expires <= now + EXPIRING_WITHIN, col(key.renews_on).is_(None), ~countdown.not_started()]


def keys_standing(session: Session, *, vendor_id: int, standing: str, after: int | None, limit: int,
                  now: datetime) -> tuple[list, int | None]:
    """One page of the standing's keys, each with its product's and customer's names, soonest expiry first (then
    by id), from after the key `after`; and the key the next page starts after (None on the last)."""
    key = LicenseKey
    where = conditions(standing, vendor_id=vendor_id, now=now)
    mark = session.exec(select(key.expires, key.id).where(key.id == after, key.vendor_id == vendor_id)).first() \
        if after is not None else None
    if mark is not None:
        where.append(or_(key.expires > mark.expires, and_(key.expires == mark.expires, key.id > mark.id)))
    rows = session.exec(select(key, Product.name, Customer).join(Product, Product.id == key.product_id)
                        .outerjoin(Customer, Customer.id == key.customer_id)
                        .where(*where).order_by(key.expires, key.id).limit(limit + 1)).all()
    return rows[:limit], rows[limit - 1][0].id if len(rows) > limit else None
