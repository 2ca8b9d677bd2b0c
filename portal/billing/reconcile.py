"""Needs attention: where Stripe and the portal disagree, in words, each with its one-click repair.

Two sources: the local records (a paid subscription with no key, a write-back still pending, a key blocked while
its subscription is paid up, a key of another product or customer) and what the last look at the vendor's Stripe
account found (a paid subscription still carrying `skm_temp_var` or no `skm_key_id` ten minutes after it began,
a `skm_key_id` that names no key here, a Stripe customer without `skm_customer_id`). A repair reads the
subscription from Stripe as it is now and settles it (portal/billing/events.py): it is safe to run twice.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from portal.billing.connection import StripeAccess, know_the_account
from portal.billing.events import TEMP_VAR, handle_event, settle, subscription_named_by
from portal.billing.gateway import StripeRefused, StripeUnavailable
from portal.billing.named_keys import replace_key
from portal.billing.sync import KEYED, customer_of
from portal.billing_models import (
    UNDELIVERED,
    UNSEEN,
    StripeConnection,
    StripeDrift,
    StripeEvent,
    Subscription,
    of_the_connection,
)
from portal.dataobjects.services import KEY, add_object, delete_objects_of, find_by_name
from portal.db import database_now
from portal.domain import DomainError, NotFound, find_owned
from portal.keys.managed import STRIPE_MANAGED
from portal.keys.services import change_customer, set_blocked
from portal.models import Customer, LicenseKey, utcnow

SETTLING_TIME = timedelta(minutes=10)


@dataclass
class Finding:
    """One thing that needs the vendor's attention."""

    kind: str
    stripe_id: str
    problem: str
    repair: str
    subscription: Subscription | None = None
    drift_id: int | None = None


def local_findings(session: Session, *, vendor_id: int) -> list[Finding]:
    """What the records of the account and mode Stripe is connected in show wrong (another's are not looked at:
    their subscriptions are not in the Stripe a repair reads)."""
    rows = session.exec(
        select(Subscription, LicenseKey).outerjoin(LicenseKey, LicenseKey.id == Subscription.key_id)
        .join(StripeConnection, StripeConnection.vendor_id == Subscription.vendor_id)
        .where(Subscription.vendor_id == vendor_id, of_the_connection(Subscription, StripeConnection),
               Subscription.status.in_(KEYED))
        .order_by(Subscription.id.desc())).all()
    found = []
    for row, key in rows:
        named = f"Its key (ID {key.key_number}, GlobalId {key.id})" if key is not None else ""
        if key is None:
            problem = row.problem or "Paid for, and no license key was made."
            found.append(Finding("no_key", row.stripe_subscription_id, problem, "Make the key", row))
        elif key.product_id != row.product_id or key.customer_id != row.customer_id:
            found.append(Finding("wrong_key", row.stripe_subscription_id,
                                 f"{named} belongs to another product or customer.",
                                 "Make the right key", row))
        elif not row.key_written:
            found.append(Finding("write_back", row.stripe_subscription_id,
                                 "Stripe has not been told the key's ID yet (skm_key_id).", "Write the metadata", row))
        elif key.block and row.paid_up:
            found.append(Finding("blocked", row.stripe_subscription_id,
                                 f"{named} is blocked while the subscription is paid up.", "Unblock",
                                 row))
    return found


_DRIFT_REPAIRS = {"no_key_id": "Make the key and write the metadata", "unknown_key": "Write the metadata",
                  "customer_unlinked": "Link the customer", UNSEEN: "Dismiss", UNDELIVERED: "Dismiss"}


def needs_attention(session: Session, *, vendor_id: int) -> list[Finding]:
    local = local_findings(session, vendor_id=vendor_id)
    seen = {finding.stripe_id for finding in local}
    drift = session.exec(select(StripeDrift).where(StripeDrift.vendor_id == vendor_id)
                         .order_by(StripeDrift.id)).all()
    found = []
    for d in drift:
        if d.kind == UNDELIVERED and _delivered_since(session, vendor_id, d.found_at):
            continue  # the webhook has had an event since: put right
        if d.stripe_id not in seen:
            seen.add(d.stripe_id)  # once, though two events handled at once may each have noted it
            found.append(Finding(d.kind, d.stripe_id, d.detail, _DRIFT_REPAIRS[d.kind], drift_id=d.id))
    return local + found


def _delivered_since(session: Session, vendor_id: int, moment: datetime) -> bool:
    newest = session.exec(select(StripeEvent.received_at).where(StripeEvent.vendor_id == vendor_id)
                          .order_by(StripeEvent.id.desc()).limit(1)).first()
    return newest is not None and newest > moment


def dismiss_unseen(session: Session, *, vendor_id: int, stripe_id: str, kind: str = UNSEEN) -> None:
    """Forget a note that asks for no repair: that events named this subscription the vendor's key could not see
    (every note of it: two events handled at once may each have noted it), or that Stripe could not deliver events."""
    session.execute(delete(StripeDrift).where(StripeDrift.vendor_id == vendor_id, StripeDrift.kind == kind,
                                              StripeDrift.stripe_id == stripe_id))


def attention_count(session: Session, *, vendor_id: int) -> int:
    return len(needs_attention(session, vendor_id=vendor_id))


# Looking at Stripe


@dataclass
class Drift:
    kind: str
    stripe_id: str
    detail: str
    subscription: dict | None = None
    customer: dict | None = None


def _created(subscription: dict) -> datetime:
    return datetime.fromtimestamp(subscription.get("created") or 0, UTC)


def find_drift(session: Session, *, connection: StripeConnection, subscriptions: list[dict], customers: list[dict],
               now: datetime | None = None) -> list[Drift]:
    """What is wrong in the vendor's Stripe subscriptions and customers as the portal sees it (reads only), against
    the records of the connection's account and mode."""
    now = now or utcnow()
    keys = {row.stripe_subscription_id: row for row in session.exec(
        select(Subscription).where(Subscription.vendor_id == connection.vendor_id,
                                   of_the_connection(Subscription, connection))).all()}
    known_keys = dict(session.exec(select(LicenseKey.id, LicenseKey.key_number)
                                   .where(LicenseKey.id.in_([r.key_id for r in keys.values() if r.key_id]))).all())
    session.commit()
    found = []
    for subscription in subscriptions:
        metadata = subscription.get("metadata") or {}
        if subscription.get("status") not in KEYED or now - _created(subscription) < SETTLING_TIME:
            continue
        record = keys.get(subscription["id"])
        if TEMP_VAR in metadata or not metadata.get("skm_key_id"):
            found.append(Drift("no_key_id", subscription["id"], "Paid for, and Stripe still shows skm_temp_var or "
                               "no skm_key_id: the customer may have been charged with no key made.", subscription))
        elif record is None or record.key_id is None or \
                metadata.get("skm_key_id") != str(known_keys.get(record.key_id)):
            found.append(Drift("unknown_key", subscription["id"], f"skm_key_id {metadata.get('skm_key_id')} names "
                               "no key of this subscription here.", subscription))
        elif record.key_written and metadata.get("skm_key_globalid") not in (None, "", str(record.key_id)):
            # Named by the vendor's own code after the portal told Stripe its key: the next sync takes the named key
            # if the subscription may, and a repair writes the subscription's own key back over a name it may not.
            found.append(Drift("unknown_key", subscription["id"], f"skm_key_globalid {metadata['skm_key_globalid']} "
                               f"names another key than this subscription's (GlobalId {record.key_id}).",
                               subscription))
    for customer in customers:
        if not (customer.get("metadata") or {}).get("skm_customer_id") and not customer.get("deleted"):
            found.append(Drift("customer_unlinked", customer["id"], f"The Stripe customer {customer.get('email') or ''}"
                               " has no skm_customer_id.", customer=customer))
    return found


def check_now(session: Session, access: StripeAccess, *, connection: StripeConnection) -> int:
    """Look at Stripe and keep what was found for "Needs attention" (replacing the last look's)."""
    know_the_account(session, access, connection)
    gateway = access.gateway(connection)
    session.commit()  # no transaction (on SQLite, no write lock) is held while Stripe lists the account
    found = find_drift(session, connection=connection, subscriptions=gateway.subscriptions(),
                       customers=gateway.customers())
    _events, _received, never = _undelivered_events(session, gateway, connection.vendor_id)
    _keep(session, connection, found + ([_undelivered(never)] if never else []))
    return len(found)


def _keep(session: Session, connection: StripeConnection, found: list[Drift]) -> None:
    session.execute(delete(StripeDrift).where(StripeDrift.vendor_id == connection.vendor_id,
                                              StripeDrift.kind != UNSEEN))  # the webhook's, not this run's
    session.add_all([StripeDrift(vendor_id=connection.vendor_id, kind=d.kind, stripe_id=d.stripe_id,
                                 detail=d.detail[:500]) for d in found])
    session.execute(update(StripeConnection).where(StripeConnection.id == connection.id)
                    .values(reconciled_at=utcnow()))
    session.commit()


# Repairs


def _fix_wrong_key(session: Session, row: Subscription, actor: str) -> None:
    """A key of another customer is moved to the subscription's; a key of another product is ended (blocked, no
    longer Stripe's) and the sync makes the right one."""
    key = session.get(LicenseKey, row.key_id) if row.key_id else None
    if key is None:
        return
    if key.product_id != row.product_id:
        if not key.block:
            set_blocked(session, key=key, blocked=True, actor=actor)
        delete_objects_of(session, vendor_id=row.vendor_id, referencer_type=KEY, referencer_ids=[key.id])
        replace_key(session, row, None, actor, "subscription.key_replaced")
    elif key.customer_id != row.customer_id and row.customer_id is not None:
        change_customer(session, key=key, customer_id=row.customer_id, actor=actor)


def repair_subscription(session: Session, access: StripeAccess, *, connection: StripeConnection,
                        stripe_subscription_id: str, actor: str, portal_link: str | None,
                        fix_key: bool = False, unblock: bool = False) -> Subscription:
    """Read the subscription from Stripe, make its key if missing, write the metadata again; with `fix_key` put a
    key of another product or customer right; with `unblock`, unblock its key if the subscription is paid up."""
    vendor_id = connection.vendor_id
    row = session.exec(select(Subscription).where(Subscription.vendor_id == vendor_id,
                                                  Subscription.stripe_subscription_id == stripe_subscription_id,
                                                  of_the_connection(Subscription, connection))
                       .with_for_update()).first()
    if row is not None:
        if fix_key:
            _fix_wrong_key(session, row, actor)
        row.key_written = False
        session.add(row)
    read_at = database_now(session)
    session.commit()
    gateway = access.gateway(connection)
    row = settle(session, gateway, connection=connection, subscription=gateway.subscription(stripe_subscription_id),
                 read_at=read_at, actor=actor, portal_link=portal_link)
    key = session.get(LicenseKey, row.key_id) if row.key_id else None
    if unblock and key is not None and key.block and row.paid_up:
        set_blocked(session, key=key, blocked=False, actor=actor)
        row.blocked_for = ""
        session.add(row)
    _forget(session, vendor_id, stripe_subscription_id)
    return row


def repair_customer(session: Session, access: StripeAccess, *, connection: StripeConnection,
                    stripe_customer_id: str, actor: str) -> Customer:
    """Match a Stripe customer to a customer here (by e-mail, or a new one) and write `skm_customer_id`; returns the
    customer here."""
    gateway = access.gateway(connection)
    session.commit()
    stripe_customer = gateway.customer(stripe_customer_id)
    if stripe_customer.get("deleted"):
        raise DomainError("Stripe has deleted this customer: nothing can be written to it.")
    customer = customer_of(session, connection=connection, stripe_customer=stripe_customer, actor=actor)
    session.commit()
    gateway.update_customer_metadata(stripe_customer_id, {"skm_customer_id": str(customer.id)},
                                     idempotency_key=f"skm-customer-{stripe_customer_id}-{customer.id}")
    _forget(session, connection.vendor_id, stripe_customer_id)
    return customer


def attach_key(session: Session, access: StripeAccess, *, connection: StripeConnection, subscription_id: int,
               key_id: int, actor: str) -> Subscription:
    """Attach an existing key, chosen by hand, to a subscription in place of the one it has (or has not): a key of
    the subscription's product, moved to its customer and marked as Stripe's; the key it replaces is ended."""
    row = find_owned(session, Subscription, subscription_id, vendor_id=connection.vendor_id)
    key = find_owned(session, LicenseKey, key_id, vendor_id=connection.vendor_id)
    if row is None or not connection.holds(row):
        raise NotFound()
    if key is None:
        raise DomainError("Choose one of your keys.", field="key_id")
    row = session.exec(select(Subscription).where(Subscription.id == row.id).with_for_update()).one()
    if row.product_id is not None and key.product_id != row.product_id:
        raise DomainError("Choose a key of the subscription's product.", field="key_id")
    holder = session.exec(select(Subscription.id).where(Subscription.key_id == key.id)).first()
    if holder is not None and holder != row.id:
        raise DomainError("That key is paid for by another subscription.", field="key_id")
    replaced = session.get(LicenseKey, row.key_id) if row.key_id and row.key_id != key.id else None
    if replaced is not None:
        if not replaced.block:
            set_blocked(session, key=replaced, blocked=True, actor=actor)
        delete_objects_of(session, vendor_id=row.vendor_id, referencer_type=KEY, referencer_ids=[replaced.id])
    if row.customer_id is not None and key.customer_id != row.customer_id:
        change_customer(session, key=key, customer_id=row.customer_id, actor=actor)
    if find_by_name(session, vendor_id=row.vendor_id, name=STRIPE_MANAGED, referencer_type=KEY,
                    referencer_id=key.id) is None:
        add_object(session, vendor_id=row.vendor_id, name=STRIPE_MANAGED, string_value=row.stripe_subscription_id,
                   referencer_type=KEY, referencer_id=key.id, actor=actor)
    replace_key(session, row, key.id, actor, "subscription.key_replaced")
    session.commit()
    return repair_subscription(session, access, connection=connection,
                               stripe_subscription_id=row.stripe_subscription_id, actor=actor, portal_link=None)


def _forget(session: Session, vendor_id: int, stripe_id: str) -> None:
    session.execute(delete(StripeDrift).where(StripeDrift.vendor_id == vendor_id, StripeDrift.stripe_id == stripe_id))
    session.commit()


# A whole run (the command line and the periodic job)


@dataclass
class Summary:
    subscriptions: int = 0
    customers: int = 0
    events_redone: int = 0
    found: dict[str, int] = field(default_factory=dict)
    repaired: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # what could not be repaired, and why


def reconcile(session: Session, access: StripeAccess, *, connection: StripeConnection, dry_run: bool, actor: str,
              portal_link: str | None, step=lambda _what: None) -> Summary:
    """Walk the vendor's Stripe subscriptions and customers, repair what is wrong (or only count it), and finish
    the events whose delivery failed. `step(what)` is told of each piece of work, for a progress bar."""
    know_the_account(session, access, connection)
    gateway = access.gateway(connection)
    session.commit()
    subscriptions, customers = gateway.subscriptions(), gateway.customers()
    summary = Summary(subscriptions=len(subscriptions), customers=len(customers))
    found = find_drift(session, connection=connection, subscriptions=subscriptions, customers=customers)
    findings = local_findings(session, vendor_id=connection.vendor_id)
    session.commit()
    for drift in found:
        summary.found[drift.kind] = summary.found.get(drift.kind, 0) + 1
    for finding in findings:
        summary.found[finding.kind] = summary.found.get(finding.kind, 0) + 1
    if dry_run:
        return summary
    # A key the vendor blocked by hand stays blocked (whatever else its subscription needs): the sync lifts only the
    # portal's own blocks ("payment", "canceled") of a paid-up subscription, and a repair here unblocks nothing.
    by_hand = {f.stripe_id for f in findings if f.kind == "blocked"
               and f.subscription.blocked_for not in ("payment", "canceled")}
    targets = ({d.stripe_id for d in found if d.subscription is not None} | {f.stripe_id for f in findings}) - by_hand
    wrong = {f.stripe_id for f in findings if f.kind == "wrong_key"}
    for stripe_id in sorted(targets):
        _try(session, summary, stripe_id, lambda stripe_id=stripe_id: repair_subscription(
            session, access, connection=connection, stripe_subscription_id=stripe_id, actor=actor,
            portal_link=portal_link, fix_key=stripe_id in wrong))
        step(stripe_id)
    for drift in found:
        if drift.customer is not None:
            _try(session, summary, drift.stripe_id, lambda drift=drift: repair_customer(
                session, access, connection=connection, stripe_customer_id=drift.stripe_id, actor=actor))
            step(drift.stripe_id)
    events, received, never = _undelivered_events(session, gateway, connection.vendor_id)
    for event in events:
        if received.get(event["id"]) is None and subscription_named_by(event):
            if _try(session, summary, event["id"], lambda event=event: handle_event(
                    session, access, connection=connection, event=event, portal_link=portal_link), count=False):
                summary.events_redone += 1
            step(event["id"])
    _keep(session, connection, [_undelivered(never)] if never else [])
    return summary


def _undelivered_events(session: Session, gateway, vendor_id: int) -> tuple[list[dict], dict, list[dict]]:
    """The events Stripe could not deliver, the portal's records of them (id: when done), and those of them that never
    reached the webhook (its secret or address) and are settled (not still on their way)."""
    session.commit()  # no transaction (on SQLite, no write lock) is held while Stripe lists them
    events = gateway.undelivered_events()
    ids = [event["id"] for event in events]
    received = {}
    for start in range(0, len(ids), 500):  # a few statements of bounded size, however many Stripe lists
        received.update(session.exec(select(StripeEvent.event_id, StripeEvent.done_at).where(
            StripeEvent.vendor_id == vendor_id, col(StripeEvent.event_id).in_(ids[start:start + 500]))).all())
    session.commit()
    never = [e for e in events if e["id"] not in received and _created(e) <= utcnow() - SETTLING_TIME]
    return events, received, never


def _undelivered(events: list[dict]) -> Drift:
    newest = max(events, key=_created)
    return Drift(UNDELIVERED, newest["id"], (
        f"Stripe could not deliver {len(events)} event{'s' if len(events) != 1 else ''} to the portal (the newest "
        f"{_created(newest):%Y-%m-%d %H:%M} UTC), and the portal never received them: check that the webhook "
        "endpoint in Stripe has the address in Settings → Stripe and that the signing secret saved there is that "
        "endpoint's. The hourly run does their work: until the webhook is put right, each subscriber's key waits for "
        "it."))


def _try(session: Session, summary: Summary, what: str, repair, *, count: bool = True) -> bool:
    """One repair of a run: a failure is noted and the run goes on with the next."""
    try:
        repair()
    except (DomainError, StripeRefused, StripeUnavailable, SQLAlchemyError) as error:
        session.rollback()
        summary.failed[what] = getattr(error, "message", None) or str(error).split("\n")[0]
        return False
    summary.repaired += count
    return True
