"""A subscription record kept to Stripe's current state, and the one key it pays for.

`sync` is given the subscription as Stripe has it now (never an event's old copy), so events may
come in any order, any number of times: each brings the record and its key to the same state. Of two reads of one
subscription, the one that began later is kept, whichever commits last: a delivery that read Stripe before a renewal
and commits after the renewal's own sync leaves the record and the key as that sync left them (every change in
Stripe is followed by an event, whose read begins after it). Exactly one key
per subscription is held by the database: the record is claimed by its unique (vendor, Stripe id) before a key
is made, the key is made under the record's row lock, and set by a compare-and-set on `key_id IS NULL`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from portal.audit import record_change, recorded_together, snapshot
from portal.billing.named_keys import named_key, renamed_key, take_key
from portal.billing.skm import Skm, features_of, parse_skm
from portal.billing_models import (
    ENDED,
    OVERDUE,
    RENEWING,
    StripeConnection,
    StripeCustomer,
    Subscription,
    scope_of,
)
from portal.customers.services import create_customer, customer_by_email, one_customer_per_email
from portal.dataobjects.services import KEY, add_object
from portal.domain import find_owned, one_at_a_time
from portal.keys.managed import STRIPE_MANAGED
from portal.keys.notify import mail_new_license
from portal.keys.services import KeySettings, change_details, create_key, renew_key, set_blocked
from portal.models import Customer, LicenseKey, Product, utcnow
from portal.rules import normalize_email

# The statuses in which a subscription has been paid for (or is on trial): it has a key.
KEYED = frozenset({"active", "trialing", "past_due", "unpaid"})


def _moment(seconds) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if isinstance(seconds, int | float) and seconds else None


def _id(value) -> str:
    return value.get("id", "") if isinstance(value, dict) else str(value or "")


@dataclass
class StripeSubscription:
    """What the portal reads of a Stripe subscription (API 2026-10-28: the periods live on its items)."""

    id: str
    status: str
    customer: dict
    price: dict
    stripe_product: dict
    item_id: str
    period_end: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    ended_at: datetime | None
    metadata: dict
    read_at: datetime  # when the read of Stripe that gave it began

    @classmethod
    def read(cls, subscription: dict, *, read_at: datetime) -> "StripeSubscription":
        items = (subscription.get("items") or {}).get("data") or [{}]
        item = items[0]
        price = item.get("price") or {}
        customer = subscription.get("customer")
        ends = [_moment(i.get("current_period_end")) for i in items if i.get("current_period_end")]
        return cls(
            id=subscription["id"], status=subscription.get("status") or "",
            customer=customer if isinstance(customer, dict) else {"id": str(customer or "")},
            price=price, stripe_product=price.get("product") if isinstance(price.get("product"), dict) else {},
            item_id=item.get("id") or "", period_end=max(ends) if ends else None,
            trial_end=_moment(subscription.get("trial_end")),
            cancel_at_period_end=bool(subscription.get("cancel_at_period_end")),
            ended_at=_moment(subscription.get("ended_at")), metadata=subscription.get("metadata") or {},
            read_at=read_at)


@dataclass
class Plan:
    product: Product | None
    skm: Skm
    problem: str


def plan_of(session: Session, *, vendor_id: int, state: StripeSubscription) -> Plan:
    """The product here and the key settings a subscription's price gives, or the problem that stops a key."""
    skm, problem = parse_skm((state.price.get("metadata") or {}).get("skm"))
    product_id = skm.product_id or (state.stripe_product.get("metadata") or {}).get("skm_product_id")
    product = None
    if str(product_id or "").isdecimal() and int(product_id) < 2**31:
        product = find_owned(session, Product, int(product_id), vendor_id=vendor_id)
    if product is None:
        problem = (f"The price {_id(state.price)} is not linked to a product here: link it on a product's page "
                   "(its Stripe product needs skm_product_id).")
    return Plan(product, skm, problem)


def customer_of(session: Session, *, connection: StripeConnection, stripe_customer: dict,
                actor: str) -> Customer | None:
    """The customer here of a Stripe customer (of the connection's account and mode): by its `skm_customer_id`, by an
    earlier link, by e-mail, or new; for one deleted in Stripe, only the customer it was known for (else None)."""
    return _customer_and_link(session, connection, stripe_customer, actor)[0]


def _customer_and_link(session: Session, connection: StripeConnection, stripe_customer: dict,
                       actor: str) -> tuple[Customer | None, StripeCustomer | None]:
    """The customer (as `customer_of`), and the Stripe customer's link if `skm_customer_id` is still to be written
    to Stripe (None when it is written, or when the Stripe customer is not linked)."""
    vendor_id = connection.vendor_id
    stripe_id = stripe_customer.get("id", "")
    _one_at_a_time(session, vendor_id, stripe_id)
    if stripe_customer.get("deleted"):
        return _customer_of_deleted(session, vendor_id, stripe_id), None
    shown = str((stripe_customer.get("metadata") or {}).get("skm_customer_id") or "")
    customer = find_owned(session, Customer, int(shown), vendor_id=vendor_id) \
        if shown.isdecimal() and int(shown) < 2**31 else None
    link = session.exec(select(StripeCustomer).where(StripeCustomer.vendor_id == vendor_id,
                                                     StripeCustomer.stripe_customer_id == stripe_id)).first()
    if customer is None and link is not None:
        customer = session.get(Customer, link.customer_id)
    email = normalize_email(stripe_customer.get("email") or "")
    if customer is None:
        one_customer_per_email(session, vendor_id=vendor_id, email=email)  # and a Web API call making it meanwhile
        customer = customer_by_email(session, vendor_id=vendor_id, email=email)
    if customer is None:
        customer = create_customer(session, vendor_id=vendor_id, actor=actor, origin="stripe",
                                   name=(stripe_customer.get("name") or "")[:100], email=email[:100])
    if link is None and stripe_id:
        link = _link(session, connection, customer.id, stripe_id, written=shown == str(customer.id))
        if link is not None and link.customer_id != customer.id and not shown.isdecimal():
            # Another delivery linked this Stripe customer a moment ago: its customer is the one.
            customer = session.get(Customer, link.customer_id)
    if link is not None and not link.metadata_written and shown == str(link.customer_id):
        link.metadata_written = True  # Stripe shows it already
        session.add(link)
    return customer, link if link is not None and not link.metadata_written else None


def _customer_of_deleted(session: Session, vendor_id: int, stripe_id: str) -> Customer | None:
    """The customer of a Stripe customer deleted in Stripe (its late events read it as `{"id", "deleted"}`: no
    metadata, no e-mail): the one it is linked to, else the one its subscriptions' records name (the link is
    forgotten when the customer next goes to Stripe). Never a new customer, nor a link: nothing can be written to it
    any more, and a blank customer made from it would take the subscription away from its customer."""
    customer_id = session.exec(select(StripeCustomer.customer_id).where(
        StripeCustomer.vendor_id == vendor_id, StripeCustomer.stripe_customer_id == stripe_id)).first()
    if customer_id is None:
        customer_id = session.exec(select(Subscription.customer_id).where(
            Subscription.vendor_id == vendor_id, Subscription.stripe_customer_id == stripe_id,
            Subscription.customer_id.is_not(None)).order_by(Subscription.id.desc())).first()
    return session.get(Customer, customer_id) if customer_id is not None else None


def _one_at_a_time(session: Session, vendor_id: int, stripe_id: str) -> None:
    """Wait for any other transaction finding the customer of this Stripe customer to end: two deliveries of one new
    buyer's events would otherwise each make a customer, and the one that lost the link would leave its own behind."""
    if stripe_id:
        one_at_a_time(session, f"stripe customer {vendor_id} {stripe_id}")


def _link(session: Session, connection: StripeConnection, customer_id: int, stripe_id: str, *,
          written: bool) -> StripeCustomer | None:
    """Link a Stripe customer to a customer here, unless either is linked already (at most one Stripe customer per
    customer in an account and mode: a second one is not linked); the link the Stripe customer has then, if any."""
    vendor_id = connection.vendor_id
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"vendor_id": vendor_id, "customer_id": customer_id, "stripe_customer_id": stripe_id,
              "metadata_written": written, **scope_of(connection)}
    made = session.execute(insert(StripeCustomer.__table__).values(**values, created=utcnow())
                           .on_conflict_do_nothing().returning(StripeCustomer.__table__.c.id)).scalar()
    if made is not None:
        return StripeCustomer(id=made, **values)
    # Either constraint: the customer has another Stripe customer here, or another delivery has just linked this one.
    return session.exec(select(StripeCustomer).where(StripeCustomer.vendor_id == vendor_id,
                                                     StripeCustomer.stripe_customer_id == stripe_id)).first()


def _locked(session: Session, vendor_id: int, stripe_id: str) -> Subscription | None:
    """The record, locked, as the database holds it (a record the session loaded before is read again: what it
    compares, synced_at and key_written_at, may have moved since)."""
    return session.exec(select(Subscription).where(Subscription.vendor_id == vendor_id,
                                                   Subscription.stripe_subscription_id == stripe_id)
                        .with_for_update().execution_options(populate_existing=True)).first()


def _claim(session: Session, vendor_id: int, stripe_id: str, synced: dict) -> tuple[Subscription, dict | None]:
    """The subscription's record, locked until the transaction ends, with the `synced` values set; and its snapshot
    from before them. A new record is inserted with them (its "before" being a new Subscription's defaults).

    No snapshot, and nothing set, when `synced` was read from Stripe before the state the record holds (its
    `synced_at`, when that read began), or when the record has ended and `synced` has not (Stripe never brings an
    ended subscription back, so that state too is the older one): the record and its key stand."""
    row = _locked(session, vendor_id, stripe_id)
    if row is None:
        # Made unless another delivery made it first (then this waits for its transaction to end): either way the row
        # is there to lock.
        fresh = Subscription(vendor_id=vendor_id, stripe_subscription_id=stripe_id)
        insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        made = session.scalars(insert(Subscription).values(**(fresh.model_dump(exclude={"id"}) | synced))
                               .on_conflict_do_nothing(index_elements=["vendor_id", "stripe_subscription_id"])
                               .returning(Subscription)).first()
        if made is not None:
            return made, snapshot(fresh) | {"id": made.id}
        row = _locked(session, vendor_id, stripe_id)
    if synced["synced_at"] < row.synced_at or row.status in ENDED and synced["status"] not in ENDED:
        return row, None
    before = snapshot(row)
    for name, value in synced.items():
        setattr(row, name, value)
    session.add(row)
    return row, before


def _renews(state: StripeSubscription) -> datetime | None:
    return state.period_end if state.status in RENEWING and not state.cancel_at_period_end else None


def _make_key(session: Session, row: Subscription, state: StripeSubscription, plan: Plan, customer: Customer,
              expires: datetime, actor: str, portal_link: str | None) -> LicenseKey:
    settings = KeySettings(expires=expires, features=features_of(plan.skm), notes=plan.skm.notes,
                           max_no_of_machines=plan.skm.max_no_of_machines, customer_id=customer.id,
                           renews_on=_renews(state))
    key = create_key(session, product=plan.product, settings=settings, actor=actor)
    add_object(session, vendor_id=row.vendor_id, name=STRIPE_MANAGED, string_value=state.item_id or state.id,
               referencer_type=KEY, referencer_id=key.id, actor=actor, owner_is_new=True)
    take_key(session, row, key.id)
    mail_new_license(session, key=key, portal_link=portal_link)
    return key


def overdue(row: Subscription, key: LicenseKey, now: datetime) -> bool:
    """An unpaid renewal whose grace days have passed: the key is blocked until a payment comes. Stripe moves an
    unpaid subscription into its next period all the same, so the key keeps the expiry the last paid period gave
    it (that period's end plus the grace days), and that is the moment."""
    return row.status in OVERDUE and key.expires <= now


def block_for(session: Session, row: Subscription, key: LicenseKey, reason: str, actor: str) -> None:
    if not key.block:
        set_blocked(session, key=key, blocked=True, actor=actor)
        row.blocked_for = reason


def _keep_key(session: Session, row: Subscription, state: StripeSubscription, plan: Plan, customer: Customer | None,
              connection: StripeConnection, actor: str, portal_link: str | None,
              before: dict) -> LicenseKey | None:
    """The subscription's key kept to its state (`before`: the record before this sync); returns the
    key (None if it has none)."""
    key = session.get(LicenseKey, row.key_id) if row.key_id else None
    paid_until = state.period_end if state.status in RENEWING else None
    expires = (paid_until or utcnow()) + timedelta(days=connection.grace_days)
    if key is not None and plan.product is not None and key.product_id != plan.product.id:
        block_for(session, row, key, "switched", actor)  # a plan of another product: a new key, the old one ends
        row.key_id, row.blocked_for, key = None, "", None
        session.flush()
    if plan.product is not None:  # a key Stripe's metadata names (portal/billing/named_keys.py)
        named = (named_key(session, row, state.metadata, plan.product, customer, state.item_id or state.id, actor)
                 if key is None else renamed_key(session, row, key, state.metadata, state.read_at, plan.product,
                                                 customer, state.item_id or state.id, actor))
        key = named or key
    if key is None:
        if state.status not in KEYED or plan.product is None or customer is None:
            return None
        key = _make_key(session, row, state, plan, customer, expires, actor, portal_link)
    elif before["stripe_price_id"] and before["stripe_price_id"] != _id(state.price) and plan.product is not None:
        change_details(session, key=key, features=features_of(plan.skm),
                       max_no_of_machines=plan.skm.max_no_of_machines, actor=actor)
    if state.status in RENEWING:
        renew_key(session, key=key, expires=expires, renews_on=_renews(state), actor=actor)
    else:  # unpaid or ended: the period Stripe has moved on to is not paid for, the expiry stays
        renew_key(session, key=key, expires=key.expires, renews_on=None, actor=actor,
                  stopped="key.renewal_unpaid" if state.status in OVERDUE else "key.renewal_stopped")
    if state.status in RENEWING and row.blocked_for in ("payment", "canceled") and key.block:
        set_blocked(session, key=key, blocked=False, actor=actor)
        row.blocked_for = ""
    elif state.status in ENDED and before["status"] not in ENDED and connection.on_cancel == "block":
        block_for(session, row, key, "canceled", actor)  # as it ends: a key unblocked by hand since stays so
    elif overdue(row, key, utcnow()):
        block_for(session, row, key, "payment", actor)
    return key


@dataclass
class Synced:
    """What a sync leaves to write back to Stripe, known without reading again after the commit."""

    row: Subscription
    key_number: int | None  # the number of the record's key (None without a key)
    customer_link: StripeCustomer | None  # the Stripe customer's link whose `skm_customer_id` Stripe lacks, if any


def sync(session: Session, *, connection: StripeConnection, state: StripeSubscription, actor: str,
         portal_link: str | None = None) -> Synced:
    """Bring the record and its key to Stripe's state, and say what is left to write back; the caller commits, then
    writes `skm_key_id` back. A new key is mailed about (with `portal_link`, the customer's portal) once the
    transaction commits."""
    vendor_id = connection.vendor_id
    with recorded_together(session):  # the audit rows of a sync in one INSERT
        plan = plan_of(session, vendor_id=vendor_id, state=state)
        customer, link = _customer_and_link(session, connection, state.customer, actor)
        synced = {**scope_of(connection), "stripe_customer_id": state.customer.get("id", ""),
                  "status": state.status, "current_period_end": state.period_end,
                  "trial_end": state.trial_end, "cancel_at_period_end": state.cancel_at_period_end,
                  "ended_at": state.ended_at, "problem": plan.problem, "stripe_price_id": _id(state.price),
                  "synced_at": state.read_at}
        if plan.product is not None:
            synced["product_id"] = plan.product.id
        if customer is not None:  # else a Stripe customer deleted and never known here: the record keeps its own
            synced["customer_id"] = customer.id
        row, before = _claim(session, vendor_id, state.id, synced)
        if before is None:  # an older read than the record's: nothing to change
            key = session.get(LicenseKey, row.key_id) if row.key_id else None
            return Synced(row, key.key_number if key is not None else None, link)
        key = _keep_key(session, row, state, plan, customer, connection, actor, portal_link, before)
        session.flush()
        after = snapshot(row, leave_out=("synced_at",))
        before.pop("synced_at", None)
        if after != before:
            record_change(session, vendor_id=vendor_id, actor=actor, action="subscription.synced",
                          subject_type="subscription", subject_id=row.id, before=before, after=after)
    key_number = key.key_number if key is not None and key.id == row.key_id else None
    return Synced(row, key_number, link)
