"""Keys a Stripe subscription pays for: their mark, their subscription, and which of them the expiry sweep and the
expiry reminders leave alone (a subscription renews or blocks them)."""

from sqlalchemy import not_, update
from sqlmodel import Session, select

from portal.billing_models import StripeConnection, Subscription, of_the_connection
from portal.dataobjects.services import KEY
from portal.keys.services import set_blocked
from portal.models import DataObject

STRIPE_MANAGED = "cryptolens_stripesubscriptionitemid"


def subscription_of(session: Session, *, vendor_id: int, key_id: int) -> Subscription | None:
    """The Stripe subscription that pays for the key, if one does (of any account or mode)."""
    return session.exec(select(Subscription).where(Subscription.vendor_id == vendor_id,
                                                   Subscription.key_id == key_id)).first()


def stripe_managed_key_ids():
    """The keys a Stripe subscription keeps (their `cryptolens_stripesubscriptionitemid`), but those whose
    subscription is of another account or mode than the vendor's connection: hidden since the vendor switched keys,
    no event renews or blocks them any more, so they expire like any key."""
    return select(DataObject.referencer_id).where(DataObject.referencer_type == KEY, DataObject.name == STRIPE_MANAGED,
                                                  DataObject.referencer_id.not_in(hidden_subscription_key_ids()))


def hidden_subscription_key_ids():
    """The keys of subscriptions of another Stripe account or mode than their vendor's connection."""
    return (select(Subscription.key_id)
            .join(StripeConnection, StripeConnection.vendor_id == Subscription.vendor_id)
            .where(Subscription.key_id.is_not(None), not_(of_the_connection(Subscription, StripeConnection))))


def block_by_vendor(session: Session, *, key, blocked: bool, actor: str, ip: str = ""):
    """The vendor blocks or unblocks the key (its page, the Web API): from then on the block is the vendor's, and no
    payment of its Stripe subscription lifts it (the portal lifts only the blocks it made, billing/sync.py)."""
    session.execute(update(Subscription).where(Subscription.vendor_id == key.vendor_id, Subscription.key_id == key.id,
                                               Subscription.blocked_for != "").values(blocked_for=""))
    return set_blocked(session, key=key, blocked=blocked, actor=actor, ip=ip)
