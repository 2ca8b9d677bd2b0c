"""The customer's side of Stripe: their subscriptions in words, the plans on offer, Stripe Checkout to subscribe,
Stripe's Billing Portal to manage billing, and a refresh from Stripe. Pages read the local records; only the
refresh, Checkout and the Billing Portal call Stripe."""

import logging
from dataclasses import dataclass

from sqlalchemy import delete, exists, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.billing.connection import StripeAccess, connected
from portal.billing.events import TEMP_VAR, settle
from portal.billing.gateway import Gateway, StripeMissing
from portal.billing.plans import plan_name, price_label
from portal.billing.skm import Skm, parse_skm
from portal.billing_models import (
    StripeConnection,
    StripeCustomer,
    StripePrice,
    Subscription,
    of_the_connection,
    price_of_subscription,
    scope_of,
)
from portal.db import database_now
from portal.domain import DomainError
from portal.models import Customer, LicenseKey, Product
from portal.subscriptions.calls import MissingInStripe, stripe_call
from portal.subscriptions.checkouts import (
    checkout_marks,
    end_checkout,
    plan_keeper,
    same_price,
    trial_keeper,
    trial_left,
)
from portal.subscriptions.portal_configurations import before_terms_configuration, plans_configuration

TEMP_VALUE = "This parameter will replaced with 'skm_key_id'"
log = logging.getLogger(__name__)


@dataclass
class Line:
    """One subscription as the customer sees it."""

    record: Subscription
    product: str
    plan: str  # its price ("$9.00 / month")
    name: str  # its plan's name, as the plan on offer shows it beside the product's ("Monthly", "Pro")
    status: str
    key: "KeyLink | None"
    price_product_id: int | None = None  # the product the subscription's price is linked to here, if any

    def is_of(self, product_id: int) -> bool:
        """Whether the subscription is to this product: its key's (a price's skm may name another product than the
        one it is linked to), or its price's."""
        return product_id in (self.record.product_id, self.price_product_id)

    @property
    def period_end(self):
        return self.record.running_period_end


@dataclass
class KeyLink:
    """What a subscription line shows of its key: a link to its card, named by the key's ends as the card shows
    them."""

    id: int
    ends: tuple[str, str]


def _lines_and_billing(session: Session, *, vendor_id: int, customer_id: int) -> tuple[list[Line], bool]:
    """The customer's subscriptions, and whether they have a Stripe customer, in one query from the vendor's
    connection: those of its Stripe account and mode. (A subscription stays the customer's when the link to its
    Stripe customer is forgotten, that Stripe customer deleted in Stripe.) The Stripe customer is asked after, not
    joined: one made before the portal kept account ids counts for the account beside one made since."""
    billing = exists(select(StripeCustomer.id).where(
        StripeCustomer.vendor_id == StripeConnection.vendor_id, StripeCustomer.customer_id == customer_id,
        of_the_connection(StripeCustomer, StripeConnection)))
    rows = session.exec(
        select(billing, Subscription, StripePrice, Product.name, LicenseKey.id, LicenseKey.key)
        .select_from(StripeConnection)
        .outerjoin(Subscription, (Subscription.vendor_id == StripeConnection.vendor_id)
                   & (Subscription.customer_id == customer_id)
                   & of_the_connection(Subscription, StripeConnection))
        .outerjoin(StripePrice, price_of_subscription())
        .outerjoin(Product, Product.id == Subscription.product_id)
        .outerjoin(LicenseKey, LicenseKey.id == Subscription.key_id)
        .where(StripeConnection.vendor_id == vendor_id)
        .order_by(Subscription.id.desc())).all()
    lines = [Line(record, product or "", price_label(price) if price else "",
                  plan_name(price) if price and price.product_id == record.product_id else "",
                  record.in_words(), KeyLink(key_id, (key[:5], key[-5:])) if key_id else None,
                  price.product_id if price else None)
             for _billing, record, price, product, key_id, key in rows if record is not None]
    return lines, bool(rows) and bool(rows[0][0])


@dataclass
class Plan:
    price: StripePrice
    product: Product
    name: str  # "Monthly", or the price's nickname
    label: str
    skm: Skm


def offered_plans(session: Session, *, vendor_id: int) -> list[Plan]:
    """The plans the vendor offers in the portal (a switch per price on the product page), of the account and mode
    Stripe is connected in."""
    rows = session.exec(select(StripePrice, Product).join(Product, Product.id == StripePrice.product_id)
                        .join(StripeConnection, StripeConnection.vendor_id == StripePrice.vendor_id)
                        .where(StripePrice.vendor_id == vendor_id, of_the_connection(StripePrice, StripeConnection),
                               StripePrice.offered.is_(True),
                               StripePrice.active.is_(True), StripeConnection.connected_at.is_not(None))
                        .order_by(Product.name, StripePrice.unit_amount, StripePrice.id)).all()
    return [Plan(price, product, plan_name(price), price_label(price), parse_skm(price.skm)[0])
            for price, product in rows]


@dataclass
class Standing:
    """Where the customer stands with a plan on offer: what to say beside its button, and whether its trial is
    still theirs (one trial per customer and product, as start_checkout gives it)."""

    note: str = ""
    again: bool = False  # subscribing buys a second license
    trial_left: bool = True


def _standing(plan: Plan, lines: list[Line]) -> Standing:
    of_product = [line.record for line in lines if line.is_of(plan.product.id)]
    live = [record for record in of_product if record.paid_up]
    same = next((record for record in live if record.stripe_price_id == plan.price.stripe_price_id), None)
    standing = Standing(trial_left=not of_product)
    if same is not None and same.cancel_at_period_end:
        standing.note = (f"Your subscription to this plan ends on {_end_of(same)}: to keep it, resume it under Manage "
                         "billing. Subscribing again buys a second license.")
    elif same is not None:
        standing.note = "You are already subscribed to this plan: subscribing again buys a second license."
    elif live and all(record.cancel_at_period_end for record in live):
        dated = [record for record in live if record.current_period_end] or live
        last = max(dated, key=lambda record: record.current_period_end or 0)
        standing.note = (f"Your subscription to {plan.product.name} on another plan ends on {_end_of(last)}. "
                         "Subscribing here buys this plan's license now, beside it until then; to switch plans "
                         "instead, resume it and change its plan under Manage billing.")
    elif live:
        standing.note = (f"You are subscribed to {plan.product.name} on another plan: to switch to this one, use "
                         "Manage billing. Subscribing here buys a second license.")
    standing.again = bool(live)
    return standing


def _end_of(record: Subscription) -> str:
    return record.current_period_end.strftime("%Y-%m-%d") if record.current_period_end else "the period's end"


def section(session: Session, *, vendor_id: int, customer_id: int) -> dict:
    """What the Subscriptions section shows (the dashboard includes it too), in two queries."""
    lines, has_billing = _lines_and_billing(session, vendor_id=vendor_id, customer_id=customer_id)
    plans = offered_plans(session, vendor_id=vendor_id)
    return {"lines": lines, "plans": plans, "has_billing": has_billing,
            "standings": {plan.price.id: _standing(plan, lines) for plan in plans}}


def stripe_customer_id_of(session: Session, *, connection: StripeConnection, customer_id: int) -> str | None:
    """The customer's Stripe customer in the connection's account and mode (a test-mode id means nothing live)."""
    return session.exec(select(StripeCustomer.stripe_customer_id).where(
        StripeCustomer.vendor_id == connection.vendor_id, StripeCustomer.customer_id == customer_id,
        of_the_connection(StripeCustomer, connection))).first()


def _connection(session: Session, vendor_id: int) -> StripeConnection:
    connection = connected(session, vendor_id=vendor_id)
    if connection is None:
        raise DomainError("Subscriptions are not available at the moment.")
    return connection


def _deleted(gateway: Gateway, stripe_customer_id: str) -> bool:
    """Stripe no longer has the customer: it reads back as deleted, or not at all."""
    try:
        return bool(gateway.customer(stripe_customer_id).get("deleted"))
    except StripeMissing:
        return True


def _forget_if_deleted(session: Session, access: StripeAccess, connection: StripeConnection,
                       stripe_customer_id: str) -> bool:
    """Forget the link to a Stripe customer that Stripe no longer has (its subscriptions' records stay, as Stripe's
    events about them left them); whether it was forgotten."""
    if not stripe_call(session, _deleted, access.gateway(connection), stripe_customer_id):
        return False
    _forget(session, connection, stripe_customer_id)
    return True


def _forget(session: Session, connection: StripeConnection, stripe_customer_id: str) -> None:
    log.warning("vendor %s: Stripe customer %s is deleted in Stripe; the link to it is forgotten",
                connection.vendor_id, stripe_customer_id)
    session.execute(delete(StripeCustomer).where(StripeCustomer.vendor_id == connection.vendor_id,
                                                 StripeCustomer.stripe_customer_id == stripe_customer_id))
    session.commit()


def ensure_stripe_customer(session: Session, access: StripeAccess, *, connection: StripeConnection,
                           customer: Customer, email: str, replacing: str = "") -> str:
    """The customer's Stripe customer in the connection's account and mode, made on demand with `skm_customer_id`
    and the login's e-mail (`replacing` names the one Stripe no longer has, when this makes its successor)."""
    known = stripe_customer_id_of(session, connection=connection, customer_id=customer.id)
    if known:
        return known
    mode = "live" if connection.livemode else "test"
    # Stripe answers a repeated idempotency key with the first answer: a successor's key names what it succeeds.
    made = stripe_call(session, access.gateway(connection).create_customer, email=email, name=customer.name or email,
                       metadata={"skm_customer_id": str(customer.id)},
                       idempotency_key=f"skm-customer-new-{connection.vendor_id}-{customer.id}-{mode}"
                                       + (f"-after-{replacing}" if replacing else ""))
    try:
        with session.begin_nested():
            session.add(StripeCustomer(vendor_id=connection.vendor_id, customer_id=customer.id,
                                       stripe_customer_id=made["id"], metadata_written=True, **scope_of(connection)))
    except IntegrityError:  # made by another request at the same moment (the idempotency key gave it the same)
        pass
    linked = stripe_customer_id_of(session, connection=connection, customer_id=customer.id)
    if linked is None:  # Stripe answered with a customer linked to someone else here: never a Checkout without one
        log.warning("vendor %s: Stripe customer %s, made for customer %s, is linked to another customer",
                    connection.vendor_id, made["id"], customer.id)
        raise DomainError("Your billing account could not be set up: please ask us for help.")
    return linked


def start_checkout(session: Session, access: StripeAccess, *, vendor_id: int, customer: Customer, email: str,
                   price_id: int, success_url: str, cancel_url: str) -> str:
    """A Stripe Checkout session for one offered plan; returns the address to send the customer to."""
    connection = _connection(session, vendor_id)
    plan = next((p for p in offered_plans(session, vendor_id=vendor_id) if p.price.id == price_id), None)
    if plan is None:
        raise DomainError("Choose one of the plans on offer.", field="price")
    # One trial per customer and product: a customer who subscribed to it before pays from the first day. A
    # subscription is to a product by its key's product, or by its price's (the two differ where a price's skm
    # names another product), as the Subscriptions section's Line.is_of says.
    prices_of_product = select(StripePrice.stripe_price_id).where(StripePrice.vendor_id == vendor_id,
                                                                  StripePrice.product_id == plan.product.id)
    subscribed_before = session.exec(select(Subscription.id).where(
        Subscription.vendor_id == vendor_id, Subscription.customer_id == customer.id,
        or_(Subscription.product_id == plan.product.id, Subscription.stripe_price_id.in_(prices_of_product)),
        of_the_connection(Subscription, connection))).first() is not None
    stripe_customer = ensure_stripe_customer(session, access, connection=connection, customer=customer, email=email)
    gateway = access.gateway(connection)
    details = {"price": plan.price.stripe_price_id, "metadata": {TEMP_VAR: TEMP_VALUE},
               "trial_days": 0 if subscribed_before else plan.skm.trial_days, "success_url": success_url,
               "cancel_url": cancel_url, "client_reference_id": str(customer.id)}
    try:
        return _checkout_url(session, gateway, stripe_customer, plan, details)
    except MissingInStripe:
        if not _forget_if_deleted(session, access, connection, stripe_customer):
            raise  # the price, say
    successor = ensure_stripe_customer(session, access, connection=connection, customer=customer, email=email,
                                       replacing=stripe_customer)
    return _checkout_url(session, gateway, successor, plan, details)


def _checkout_url(session: Session, gateway: Gateway, stripe_customer: str, plan: Plan, details: dict) -> str:
    """Where to send the browser: a Checkout of the plan that is the one payable (see checkouts)."""
    price, made = plan.price.stripe_price_id, None
    if details["trial_days"] and trial_left(session, gateway, stripe_customer, plan.product.id):
        made = stripe_call(session, gateway.create_checkout_session, customer=stripe_customer,
                           session_metadata=checkout_marks(price, trial_of=plan.product.id), **details)
        keeper = trial_keeper(session, gateway, stripe_customer, plan.product.id, made)
        if keeper is not made:
            # Another click made a trial Checkout at the same moment and keeps the trial, or the trial was taken
            # meanwhile: this one is ended, and the browser sent to the other (a double-click's) or to one without.
            _end_quietly(session, gateway, made)
            made = keeper if keeper is not None and same_price(keeper, price) else None
    if made is None:
        made = stripe_call(session, gateway.create_checkout_session, customer=stripe_customer,
                           session_metadata=checkout_marks(price), **(details | {"trial_days": 0}))
    keeper = plan_keeper(session, gateway, stripe_customer, made)
    if keeper is not made:  # a double-click's other Checkout, asked for after this one: both browsers go there
        _end_quietly(session, gateway, made)
    return keeper["url"]


def _end_quietly(session: Session, gateway: Gateway, checkout: dict) -> None:
    """End a Checkout that a newer one of its plan (or trial) replaces; if Stripe cannot be asked just now, the
    browser still goes to the newer one, and this one stays open until the next Subscribe of its plan ends it, or
    Stripe does after a day."""
    try:
        end_checkout(session, gateway, checkout["id"])
    except DomainError:
        log.warning("Checkout %s, replaced by a newer one, could not be ended now", checkout["id"])


def billing_portal_url(session: Session, access: StripeAccess, *, vendor_id: int, customer_id: int,
                       return_url: str, terms_accepted: bool = True) -> str:
    """Stripe's Billing Portal for the customer, where the plans to switch to are those offered here; limited to
    cancelling and paying while they have not accepted the vendor's current terms (portal_configurations.py)."""
    connection = _connection(session, vendor_id)
    stripe_customer = stripe_customer_id_of(session, connection=connection, customer_id=customer_id)
    if stripe_customer is None:
        raise DomainError("You have no billing with us yet.")
    gateway = access.gateway(connection)
    configuration = (plans_configuration if terms_accepted else before_terms_configuration)(session, gateway,
                                                                                            connection)
    try:
        return stripe_call(session, gateway.create_billing_portal_session, customer=stripe_customer,
                           return_url=return_url, configuration=configuration)["url"]
    except MissingInStripe:
        if _forget_if_deleted(session, access, connection, stripe_customer):
            raise DomainError("You have no billing with us yet.") from None
        raise


def refresh(session: Session, access: StripeAccess, *, vendor_id: int, customer_id: int, actor: str,
            portal_link: str) -> int:
    """Read the customer's subscriptions again from Stripe and bring their records and keys up to date."""
    connection = _connection(session, vendor_id)
    stripe_customer = stripe_customer_id_of(session, connection=connection, customer_id=customer_id)
    read_at = database_now(session)
    session.commit()
    if stripe_customer is None:
        return 0
    gateway = access.gateway(connection)
    try:
        found = stripe_call(session, gateway.subscriptions, customer=stripe_customer)
    except MissingInStripe:
        if _forget_if_deleted(session, access, connection, stripe_customer):
            return 0
        raise
    for subscription in found:
        stripe_call(session, settle, session, gateway, connection=connection, subscription=subscription,
                    read_at=read_at, actor=actor, portal_link=portal_link)
    # Deleted in Stripe's dashboard (which cancelled its subscriptions): the next Subscribe makes a new Stripe customer.
    if found and all(_of_a_deleted_customer(subscription) for subscription in found):
        _forget(session, connection, stripe_customer)
    elif not found:
        _forget_if_deleted(session, access, connection, stripe_customer)
    return len(found)


def _of_a_deleted_customer(subscription: dict) -> bool:
    customer = subscription.get("customer")  # expanded by the gateway
    return isinstance(customer, dict) and bool(customer.get("deleted"))


class NoFinishedCheckout(DomainError):
    """The return page's address names no finished Checkout of the customer's: nothing was paid through it."""

    def __init__(self):
        super().__init__("This address names no finished checkout of yours, so nothing was charged through it.")


def checkout_subscription_id(session: Session, access: StripeAccess, *, vendor_id: int, customer_id: int,
                             checkout_session_id: str) -> str | None:
    """The subscription a finished Checkout of this customer's made (None while it has none), asked of Stripe;
    NoFinishedCheckout for one not finished, another customer's or none (the same answer for each)."""
    connection = _connection(session, vendor_id)
    session.commit()
    try:
        checkout = stripe_call(session, access.gateway(connection).checkout_session, checkout_session_id)
    except MissingInStripe:
        raise NoFinishedCheckout() from None
    if checkout.get("client_reference_id") != str(customer_id) or checkout.get("status") != "complete":
        raise NoFinishedCheckout()
    if not checkout.get("subscription"):
        return None
    subscription_id = checkout["subscription"]
    return subscription_id.get("id") if isinstance(subscription_id, dict) else subscription_id


def subscription_record(session: Session, *, vendor_id: int, customer_id: int,
                        stripe_subscription_id: str) -> Subscription | None:
    """The customer's record of that subscription once its events made it (a local read, no call to Stripe)."""
    connection = _connection(session, vendor_id)
    return session.exec(select(Subscription).where(Subscription.vendor_id == vendor_id,
                                                   Subscription.customer_id == customer_id,
                                                   Subscription.stripe_subscription_id == stripe_subscription_id,
                                                   of_the_connection(Subscription, connection))).first()
