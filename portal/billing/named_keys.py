"""The key a subscription's record pays for, set by a compare-and-set; and the key Stripe's metadata names.

A vendor's own code (Cryptolens' "custom interface") makes the subscription with `skm_temp_var`, makes the key
itself (`key/CreateKey`) and names it on the subscription (`skm_key_globalid`). Named before the portal's first
sync, that key is the subscription's. Named after the portal, faster, made one of its own and told Stripe (a read
begun after that write shows another name: only someone else can have set it), it takes that one's place (when it
could have been taken first): the portal's own key stops renewing and runs to its expiry, since its customer may
have it in use already. A named key the subscription cannot take is "Needs attention" (reconcile), and a repair
writes the subscription's own key back over it.
"""

from datetime import datetime

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
                            .values(key_id=key_id, key_written=False, key_written_at=None)).rowcount
    if taken != 1:
        raise DomainError("The subscription's key was set by another delivery.")
    for name, value in (("key_id", key_id), ("key_written", False), ("key_written_at", None)):
        set_committed_value(row, name, value)


def replace_key(session: Session, row: Subscription, key_id: int | None, actor: str, action: str) -> None:
    """The record pays for another key from now on (None: none yet, the sync makes it), in the trail under `action`:
    nothing of it is written to Stripe yet, and a block of the key it paid for is no longer the record's to lift.
    The record is locked."""
    before = {"key_id": row.key_id, "blocked_for": row.blocked_for}
    row.key_id, row.key_written, row.key_written_at, row.blocked_for = key_id, False, None, ""
    session.add(row)
    record_change(session, vendor_id=row.vendor_id, actor=actor, action=action, subject_type="subscription",
                  subject_id=row.id, before=before, after={"key_id": key_id, "blocked_for": ""})


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


def renamed_key(session: Session, row: Subscription, key: LicenseKey, metadata: dict, read_at: datetime,
                product: Product, customer: Customer | None, item_id: str, actor: str) -> LicenseKey | None:
    """The key `skm_key_globalid` names in place of the record's `key`, in Stripe's metadata as a read begun at
    `read_at` found it, when the subscription may take it; `key` then stops renewing (and is Stripe's no more). None
    when it names `key`, nothing, or a key it may not take, and unless the read began after `key` was written to
    Stripe: before that, another name is what Stripe showed before the portal's own change (a key attached by hand,
    a plan's new key). A name not taken is in the trail when a repair is to write the record's key over it. The
    record is locked (portal/billing/sync.py: _claim)."""
    if row.key_written_at is None or read_at <= row.key_written_at:
        return None
    named = _global_id(metadata)
    found = find_owned(session, LicenseKey, named, vendor_id=row.vendor_id) if named not in (None, key.id) else None
    if found is None or not _free_for(session, row, found, product, customer, actor, audit=not row.key_written):
        return None
    managed = find_by_name(session, vendor_id=row.vendor_id, name=STRIPE_MANAGED, referencer_type=KEY,
                           referencer_id=key.id)
    if managed is not None:
        delete_object(session, data_object=managed, actor=actor)
    renew_key(session, key=key, expires=key.expires, renews_on=None, actor=actor)
    replace_key(session, row, found.id, actor, "subscription.key_named")
    _made_the_subscriptions(session, row, found, customer, item_id, actor)
    return found


def _global_id(metadata: dict) -> int | None:
    named = str(metadata.get("skm_key_globalid", ""))
    return int(named) if named.isdecimal() and int(named) < 2**31 else None


def _free_for(session: Session, row: Subscription, found: LicenseKey, product: Product, customer: Customer | None,
              actor: str, audit: bool = True) -> bool:
    """Whether the subscription may take a key its metadata names: of the plan's product, no other subscription's,
    and no other customer's than the subscriber (one naming another customer's key gets a key of its own, rather
    than paying for theirs, and with `audit` the trail says so)."""
    if found.product_id != product.id:
        return False
    if found.customer_id is not None and (customer is None or found.customer_id != customer.id):
        if not audit:
            return False
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
