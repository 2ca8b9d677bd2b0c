"""The vendor's list of subscriptions: filtered by status, searched by Stripe subscription or customer id, in
keyset pages (newest first); those of the account and mode Stripe is connected in."""

from dataclasses import dataclass

from sqlmodel import Session, or_, select

from portal.billing_models import StripeConnection, StripePrice, Subscription, of_the_connection, price_of_subscription
from portal.models import Customer, LicenseKey, Product
from portal.rules import is_stripe_id

# Stripe's statuses, as the subscription list's filter names them (the list's rows say Subscription.in_words()).
STATUSES = {"active": "Active", "trialing": "On trial", "past_due": "Payment failed (past due)", "unpaid": "Unpaid",
            "canceled": "Ended (cancelled)", "incomplete": "Waiting for the first payment",
            "incomplete_expired": "First payment never made", "paused": "Paused"}


@dataclass
class Page:
    rows: list
    next_before: int | None


def list_subscriptions(session: Session, *, vendor_id: int, status: str = "", query: str = "",
                       before: int | None = None, limit: int = 25) -> Page:
    statement = (select(Subscription, Customer, Product, LicenseKey, StripePrice)
                 .outerjoin(Customer, Customer.id == Subscription.customer_id)
                 .outerjoin(Product, Product.id == Subscription.product_id)
                 .outerjoin(LicenseKey, LicenseKey.id == Subscription.key_id)
                 .outerjoin(StripePrice, price_of_subscription())
                 .join(StripeConnection, StripeConnection.vendor_id == Subscription.vendor_id)
                 .where(Subscription.vendor_id == vendor_id, of_the_connection(Subscription, StripeConnection)))
    if status in STATUSES:
        statement = statement.where(Subscription.status == status)
    query = query.strip()[:255]
    if query and not is_stripe_id(query, ("sub_", "cus_")):
        return Page([], None)  # only a subscription's or a customer's Stripe id is looked for
    if query:
        statement = statement.where(or_(Subscription.stripe_subscription_id == query,
                                        Subscription.stripe_customer_id == query))
    if before is not None:
        statement = statement.where(Subscription.id < before)
    rows = session.exec(statement.order_by(Subscription.id.desc()).limit(limit + 1)).all()
    return Page(rows[:limit], rows[limit - 1][0].id if len(rows) > limit else None)
