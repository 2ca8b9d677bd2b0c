"""The key a subscription's record pays for, set by a compare-and-set; and the key Stripe's metadata names.

A vendor's own code (Cryptolens' "custom interface") makes the subscription with `skm_temp_var`, makes the key
itself (`key/CreateKey`) and names it on the subscription (`skm_key_globalid`). Named before the portal's first
sync, that key is the subscription's. Named after the portal, faster, made one of its own, it takes that one's place
(when it could have been taken first): the portal's own key stops renewing and runs to its expiry, since its
customer may have it in use already. A named key the subscription cannot take is "Needs attention" (reconcile).
"""

from sqlalchemy import update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from portal.audit import record_change
from portal.billing_models import Subscription
from portal.dataobjects.services import KEY, add_object, delete_object, find_by_name
from portal.domain import DomainError, find_owned
from portal.keys.managed import STRIPE_MANAGED
from portal.keys.services import change_customer, renew_key
from portal.models import Customer, LicenseKey, Product


def take_key(session: Session, row: Subscription, key_id: int) -> None:
    """The record's key set by a compare-and-set on `key_id IS NULL` (a plain table UPDATE: the loaded record is
    given the values it now holds, so that no second UPDATE follows at the flush)."""
    table = Subscription.__table__
    taken = session.execute(update(table).where(table.c.id == row.id, table.c.key_id.is_(None))
                            .values(key_id=key_id, key_written=False)).rowcount
    if taken != 1:
        raise DomainError("The subscription's key was set by another delivery.")
    set_committed_value(row, "key_id", key_id)
    set_committed_value(row, "key_written", False)


def named_key(session: Session, row: Subscription, metadata: dict, product: Product, customer: Customer | None,
              item_id: str, actor: str) -> LicenseKey | None:
    """The key Stripe's metadata already names (`skm_key_globalid`, else `skm_key_id` in the plan's `product`), when
    the subscription may take it (`_free_for`): a subscription made by the vendor's own code, or carried over from
    Cryptolens, keeps its key. Taken with the same compare-and-set as a new key."""
    found = None
    if _global_id(metadata) is not None:
        found = find_owned(session, LicenseKey, _global_id(metadata), vendor_id=row.vendor_id)
    elif str(metadata.get("skm_key_id", "")).isdecimal() and int(metadata["skm_key_id"]) < 2**31:
        found = session.exec(select(LicenseKey).where(LicenseKey.product_id == product.id,
                                                      LicenseKey.key_number == int(metadata["skm_key_id"]))).first()
    if found is None or not _free_for(session, row, found, product, customer, actor):
        return None
    take_key(session, row, found.id)
    _made_the_subscriptions(session, row, found, customer, item_id, actor)
    return found


def renamed_key(session: Session, row: Subscription, key: LicenseKey, metadata: dict, product: Product,
                customer: Customer | None, item_id: str, actor: str) -> LicenseKey | None:
    """The key `skm_key_globalid` names in place of the record's `key`, when the subscription may take it; `key`
    then stops renewing (and is Stripe's no more). None when it names `key`, nothing, or a key it may not take, and
    until `key` has been written to Stripe: before that, another name is what Stripe showed before the portal's own
    change (a key attached by hand, a plan's new key). The record is locked (portal/billing/sync.py: _claim)."""
    if not row.key_written:
        return None
    named = _global_id(metadata)
    found = find_owned(session, LicenseKey, named, vendor_id=row.vendor_id) if named not in (None, key.id) else None
    if found is None or not _free_for(session, row, found, product, customer, actor):
        return None
    managed = find_by_name(session, vendor_id=row.vendor_id, name=STRIPE_MANAGED, referencer_type=KEY,
                           referencer_id=key.id)
    if managed is not None:
        delete_object(session, data_object=managed, actor=actor)
    renew_key(session, key=key, expires=key.expires, renews_on=None, actor=actor)
    row.key_id, row.key_written = found.id, False
    session.add(row)
    record_change(session, vendor_id=row.vendor_id, actor=actor, action="subscription.key_named",
                  subject_type="subscription", subject_id=row.id, before={"key_id": key.id},
                  after={"key_id": found.id})
    _made_the_subscriptions(session, row, found, customer, item_id, actor)
    return found


def _global_id(metadata: dict) -> int | None:
    named = str(metadata.get("skm_key_globalid", ""))
    return int(named) if named.isdecimal() and int(named) < 2**31 else None


def _free_for(session: Session, row: Subscription, found: LicenseKey, product: Product, customer: Customer | None,
              actor: str) -> bool:
    """Whether the subscription may take a key its metadata names: of the plan's product, no other subscription's,
    and no other customer's than the subscriber (one naming another customer's key gets a key of its own, rather
    than paying for theirs, and the trail says so)."""
    if found.product_id != product.id:
        return False
    if found.customer_id is not None and (customer is None or found.customer_id != customer.id):
        record_change(session, vendor_id=row.vendor_id, actor=actor, action="subscription.key_not_taken",
                      subject_type="subscription", subject_id=row.id, before=None,
                      after={"key": found.key_number, "customer_id": found.customer_id})
        return False
    return session.exec(select(Subscription.id).where(Subscription.key_id == found.id)).first() is None


def _made_the_subscriptions(session: Session, row: Subscription, key: LicenseKey, customer: Customer | None,
                            item_id: str, actor: str) -> None:
    """A taken key of no customer becomes the subscriber's, and is marked as Stripe's (the expiry sweep leaves it
    to the subscription)."""
    if key.customer_id is None and customer is not None:
        change_customer(session, key=key, customer_id=customer.id, actor=actor)
    if find_by_name(session, vendor_id=row.vendor_id, name=STRIPE_MANAGED, referencer_type=KEY,
                    referencer_id=key.id) is None:
        add_object(session, vendor_id=row.vendor_id, name=STRIPE_MANAGED, string_value=item_id, referencer_type=KEY,
                   referencer_id=key.id, actor=actor)
