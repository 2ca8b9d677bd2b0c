"""The Stripe nouns the portal keeps: a vendor's connection, linked prices, customers, subscriptions and events.

Pages read these records, never Stripe on each view; webhooks and "refresh" bring them up to Stripe's state.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, select

from portal.columns import fk, utcnow, when

STRIPE_ID_MAX = 255
PROBLEM_MAX = 500


class StripeConnection(SQLModel, table=True):
    """A vendor's Stripe keys (encrypted; only their last four characters are ever shown) and billing policy."""

    __tablename__ = "stripe_connection"
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("vendor.id", ondelete="CASCADE"),
                                               nullable=False, unique=True))
    secret_key_encrypted: str | None = None
    webhook_secret_encrypted: str | None = None
    secret_key_last4: str = Field(default="", max_length=4)
    webhook_secret_last4: str = Field(default="", max_length=4)
    # What connecting (and "Test connection" since) found: the account's name and id (acct_…; "" until known, for a
    # connection made before the portal kept it), and whether the key is a live one.
    account_name: str = Field(default="", max_length=200)
    stripe_account_id: str = Field(default="", max_length=STRIPE_ID_MAX, sa_column_kwargs={"server_default": ""})
    livemode: bool = False
    tested_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    # A renewal is charged only after the period ends: keys run this many days past it.
    grace_days: int = 3
    # When a subscription ends: "expire" (the key runs to its expiry) or "block" (at once).
    on_cancel: str = Field(default="expire", max_length=8)
    connected_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    # When the last reconcile run (periodic or "Check now") finished.
    reconciled_at: datetime | None = Field(default=None, sa_column=when(nullable=True))

    @property
    def connected(self) -> bool:
        return self.secret_key_encrypted is not None and self.webhook_secret_encrypted is not None

    def holds(self, record: "StripeScoped") -> bool:
        """Whether a record is of this connection's Stripe account and mode (the records the portal shows and uses)."""
        return (record.livemode, record.stripe_account_id) == (self.livemode, self.stripe_account_id)


class StripeScoped(SQLModel):
    """The Stripe account and mode a record was read in. Stripe keeps an account's test and live data apart (a test
    customer's id means nothing to a live key), and another account shares nothing: the portal shows and uses only
    the records of its connection's account and mode, and keeps the others (hidden) for a switch back."""

    livemode: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    stripe_account_id: str = Field(default="", max_length=STRIPE_ID_MAX, sa_column_kwargs={"server_default": ""})


def scope_of(connection: StripeConnection) -> dict:
    """The values that make a record one of the connection's account and mode."""
    return {"livemode": connection.livemode, "stripe_account_id": connection.stripe_account_id}


def of_the_connection(model: type[StripeScoped], connection) -> sa.ColumnElement[bool]:
    """`model`'s records of the connection's account and mode. `connection` is a StripeConnection (its values), or
    the StripeConnection class itself, to compare in a query that joins the vendor's connection.

    A record of no known account (kept before the portal learnt accounts, and never labelled since: the key it was
    read with no longer answers) counts as the connection's account's in its mode, as it did then: hiding it would
    hide a paying customer's subscription and offer them Checkout again."""
    return sa.and_(model.livemode == connection.livemode,
                   sa.or_(model.stripe_account_id == connection.stripe_account_id, model.stripe_account_id == ""))


class StripePrice(StripeScoped, table=True):
    """A Stripe price linked to a product here, as last read from Stripe, with the key settings of its `skm`."""

    __tablename__ = "stripe_price"
    __table_args__ = (sa.UniqueConstraint("vendor_id", "stripe_price_id", name="uq_stripe_price_vendor_price"),)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    product_id: int = Field(sa_column=fk("product.id"))
    stripe_price_id: str = Field(max_length=STRIPE_ID_MAX)
    stripe_product_id: str = Field(default="", max_length=STRIPE_ID_MAX)
    nickname: str = Field(default="", max_length=200)
    unit_amount: int | None = None
    currency: str = Field(default="", max_length=3)
    interval: str = Field(default="", max_length=8)
    interval_count: int = 1
    active: bool = True
    # The price's `skm` metadata as found in Stripe, and what is wrong with it ("" when nothing is).
    skm: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    problem: str = Field(default="", max_length=PROBLEM_MAX)
    # Shown to customers as a plan to subscribe to in the portal.
    offered: bool = False
    refreshed_at: datetime = Field(default_factory=utcnow, sa_column=when())


class StripeCustomer(StripeScoped, table=True):
    """The one Stripe customer of a customer here, per Stripe account and mode."""

    __tablename__ = "stripe_customer"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", "stripe_customer_id", name="uq_stripe_customer_vendor_id"),
        sa.UniqueConstraint("customer_id", "livemode", "stripe_account_id", name="uq_stripe_customer_scope"),
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    customer_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("customer.id", ondelete="CASCADE"),
                                                 nullable=False))
    stripe_customer_id: str = Field(max_length=STRIPE_ID_MAX)
    # `skm_customer_id` is on the Stripe customer.
    metadata_written: bool = False
    created: datetime = Field(default_factory=utcnow, sa_column=when())


# The statuses of a subscription that renews its key at the end of each period.
RENEWING = frozenset({"active", "trialing"})
# The statuses of a subscription that is over: Stripe charges for it no more.
ENDED = frozenset({"canceled", "incomplete_expired"})
# The statuses of a subscription whose renewal is unpaid: its key is blocked once the grace days have passed.
OVERDUE = frozenset({"past_due", "unpaid"})


class Subscription(StripeScoped, table=True):
    """A Stripe subscription as last read from Stripe, and the key it pays for."""

    __tablename__ = "subscription"
    __table_args__ = (
        sa.UniqueConstraint("vendor_id", "stripe_subscription_id", name="uq_subscription_vendor_stripe_id"),
        sa.Index("ix_subscription_vendor_scope_status", "vendor_id", "livemode", "stripe_account_id", "status",
                 "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    stripe_subscription_id: str = Field(max_length=STRIPE_ID_MAX)
    stripe_customer_id: str = Field(default="", max_length=STRIPE_ID_MAX)
    customer_id: int | None = Field(default=None, sa_column=fk("customer.id", ondelete="SET NULL", nullable=True))
    stripe_price_id: str = Field(default="", max_length=STRIPE_ID_MAX)
    product_id: int | None = Field(default=None, sa_column=fk("product.id", ondelete="SET NULL", nullable=True,
                                                              index=False))
    status: str = Field(default="", max_length=24)
    current_period_end: datetime | None = Field(default=None, sa_column=when(nullable=True))
    trial_end: datetime | None = Field(default=None, sa_column=when(nullable=True))
    cancel_at_period_end: bool = False
    ended_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    # The key it pays for: one key per subscription, one subscription per key.
    key_id: int | None = Field(default=None, sa_column=sa.Column(
        sa.Integer, sa.ForeignKey("license_key.id", ondelete="SET NULL"), nullable=True, unique=True))
    # `skm_key_id` (and `skm_key_globalid`) written to the subscription, `skm_temp_var` removed.
    key_written: bool = False
    # When Stripe was last told the record's key (by the database's clock; None until it is, again after a change of
    # key): a read begun after it that names another key names one the vendor's own code set (billing/named_keys.py).
    key_written_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    # Why the portal blocked the key, so that it unblocks only what it blocked: "payment", "canceled", "switched".
    blocked_for: str = Field(default="", max_length=16)
    # What keeps the portal from making the key (an unlinked price, bad `skm`), for the vendor to repair.
    problem: str = Field(default="", max_length=PROBLEM_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    # When the read of Stripe that the record holds began, by the database's clock: of two reads, the one begun later
    # is kept (billing/sync.py).
    synced_at: datetime = Field(default_factory=utcnow, sa_column=when())

    @property
    def paid_up(self) -> bool:
        return self.status in RENEWING

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def running_period_end(self) -> datetime | None:
        """The end of the period being paid for; none once the subscription has ended (its status says when)."""
        return None if self.ended else self.current_period_end

    def in_words(self) -> str:
        """The status as the customer and the vendor read it: "Active", "Trial until …", "Cancels on …", …"""
        def day(moment: datetime | None) -> str:
            return moment.strftime("%Y-%m-%d") if moment else "…"

        if self.status in ENDED:
            return f"Ended on {day(self.ended_at or self.current_period_end)}"
        if self.status in ("past_due", "unpaid"):
            return "Payment failed: update your card"
        if self.cancel_at_period_end:
            return f"Cancels on {day(self.current_period_end)}"
        if self.status == "trialing":
            return f"Trial until {day(self.trial_end or self.current_period_end)}"
        return {"active": "Active", "incomplete": "Waiting for the first payment", "paused": "Paused"}.get(
            self.status, self.status.replace("_", " ").capitalize())


class StripeEvent(SQLModel, table=True):
    """A webhook event, recorded once per vendor; `done_at` is set only when its work is committed and written back."""

    __tablename__ = "stripe_event"
    __table_args__ = (sa.UniqueConstraint("vendor_id", "event_id", name="uq_stripe_event_vendor_event"),)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    event_id: str = Field(max_length=STRIPE_ID_MAX)
    type: str = Field(max_length=100)
    received_at: datetime = Field(default_factory=utcnow, sa_column=when())
    done_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    attempts: int = 0
    last_error: str = Field(default="", max_length=PROBLEM_MAX)


UNSEEN = "unseen"
UNDELIVERED = "undelivered"


class StripeDrift(SQLModel, table=True):
    """What the last reconcile run found wrong in the vendor's Stripe account (replaced by the next run)."""

    __tablename__ = "stripe_drift"
    __table_args__ = (sa.Index("ix_stripe_drift_vendor", "vendor_id", "kind", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    # "no_key_id" (paid, still skm_temp_var or no skm_key_id), "unknown_key" (skm_key_id names no key here),
    # "customer_unlinked" (a Stripe customer without skm_customer_id); and UNSEEN, kept by the webhook rather than by
    # reconcile: a signed event named a subscription the vendor's key cannot see (two accounts' secrets?); and
    # UNDELIVERED (its stripe_id the newest event's): events Stripe could not deliver that the portal never received.
    kind: str = Field(max_length=24)
    stripe_id: str = Field(max_length=STRIPE_ID_MAX)
    detail: str = Field(default="", max_length=PROBLEM_MAX)
    found_at: datetime = Field(default_factory=utcnow, sa_column=when())


def stripe_dashboard_url(kind: str, stripe_id: str, *, livemode: bool) -> str:
    """The object's page in Stripe's dashboard (`kind`: customers, subscriptions), in test or live mode."""
    return f"https://dashboard.stripe.com/{'' if livemode else 'test/'}{kind}/{stripe_id}"


def live_subscription_ids(session: Session, *, vendor_id: int, customer_id: int | None = None,
                          product_id: int | None = None, key_id: int | None = None) -> list[str]:
    """The Stripe subscriptions of the customer, of the product or of the key that have not ended (of any account or
    mode)."""
    if key_id is not None:
        owner = Subscription.key_id == key_id
    elif product_id is not None:
        owner = Subscription.product_id == product_id
    else:
        owner = Subscription.customer_id == customer_id
    return list(session.exec(select(Subscription.stripe_subscription_id).where(
        Subscription.vendor_id == vendor_id, owner, Subscription.status.not_in(ENDED)).order_by(Subscription.id)).all())


def still_paid_for(live: list[str], whose: str, then: str) -> str:
    """Why a record is not deleted while Stripe goes on charging for it, e.g. `This customer pays for 2 Stripe
    subscriptions that have not ended (sub_1, sub_2): cancel them in Stripe first, then delete the customer.`"""
    many = len(live) != 1
    return (f"{whose} {len(live)} Stripe subscription{'s' if many else ''} that {'have' if many else 'has'} not "
            f"ended ({', '.join(live[:3])}{', …' if len(live) > 3 else ''}): cancel {'them' if many else 'it'} in "
            f"Stripe first, then {then}.")


def price_of_subscription() -> sa.ColumnElement[bool]:
    """The outer join's condition from a subscription's record to its price, when that price is linked here."""
    return sa.and_(StripePrice.vendor_id == Subscription.vendor_id,
                   StripePrice.stripe_price_id == Subscription.stripe_price_id)
