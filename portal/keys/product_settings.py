"""Cryptolens' product configurations: data objects on a product, named `cryptolens_…`, that change how its keys
behave. Read where that behaviour happens (an activation starting a countdown, an extension), never on a hot path.
"""

from sqlmodel import Session, select

from portal.billing_models import Subscription
from portal.dataobjects.services import TRIAL_ACTIVATION, UNBLOCK_EXTENDED, product_switch_on


def first_activation_only(session: Session, key) -> bool:
    return product_switch_on(session, vendor_id=key.vendor_id, product_id=key.product_id, name=TRIAL_ACTIVATION)


def unblocks_when_extended(session: Session, key, days: int) -> bool:
    """Whether extending the key by `days` unblocks it: a blocked key, lengthened (shortening unblocks nothing), but
    not one its Stripe subscription blocked (for a failed payment or the end of the subscription): the
    subscription's next payment unblocks that one, and an extension by hand would leave the two disagreeing."""
    if not key.block or days <= 0:
        return False
    blocked_by_stripe = session.exec(select(Subscription.id).where(
        Subscription.vendor_id == key.vendor_id, Subscription.key_id == key.id, Subscription.blocked_for != "")).first()
    return blocked_by_stripe is None and product_switch_on(session, vendor_id=key.vendor_id,
                                                           product_id=key.product_id, name=UNBLOCK_EXTENDED)
