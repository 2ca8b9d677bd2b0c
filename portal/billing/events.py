"""Stripe's webhook events, each done once whatever the retries, duplicates, concurrency and order.

An event's subscription is read from Stripe as it is now, then the event is recorded by (vendor, event id) and the
subscription synced (portal/billing/sync.py) in one transaction; then `skm_key_id` is written to the subscription
(and `skm_customer_id` to its customer) with idempotency keys; only then is the event marked done, in the
transaction that marks them written. Any failure leaves it not done and is raised, so that the webhook answers 5xx
and Stripe delivers again: the redelivery finds the key and only finishes what is left. No transaction is open
while Stripe is called."""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Executable, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from portal.billing.connection import StripeAccess
from portal.billing.gateway import Gateway, StripeMissing
from portal.billing.sync import StripeSubscription, Synced, sync
from portal.billing_models import (
    PROBLEM_MAX,
    UNSEEN,
    StripeConnection,
    StripeCustomer,
    StripeDrift,
    StripeEvent,
    Subscription,
)
from portal.db import database_now, database_now_in_sql
from portal.models import LicenseKey, utcnow

TEMP_VAR = "skm_temp_var"
ACTOR = "stripe"
# The event's record is written by plain table statements: none of them has a loaded record to keep in step.
_EVENTS = StripeEvent.__table__


def subscription_named_by(event: dict) -> str | None:
    """The id of the subscription an event concerns, in the shapes of API 2026-10-28 (and the older ones)."""
    thing = (event.get("data") or {}).get("object") or {}
    kind = event.get("type", "")
    if kind.startswith("customer.subscription."):
        found = thing.get("id")
    elif kind == "checkout.session.completed":
        found = thing.get("subscription")
    elif kind.startswith("invoice."):
        details = (thing.get("parent") or {}).get("subscription_details") or {}
        found = details.get("subscription") or thing.get("subscription")
    else:
        return None
    found = found.get("id") if isinstance(found, dict) else found
    return found if isinstance(found, str) and found.startswith("sub_") else None


def refusal_of(connection: StripeConnection, event: dict) -> str | None:
    """Why an event is not the connection's to process (None when it is): an event of the other mode than its key's.
    Stripe signs a mode's events with that mode's endpoint secret, so this is a webhook secret of one mode kept with
    a key of the other. Such an event is refused and nothing is written: its subscription is not in the account and
    mode the portal reads, and Stripe keeps it (and delivers it again) for when the keys match its mode."""
    livemode = event.get("livemode")
    if not isinstance(livemode, bool) or livemode == connection.livemode:
        return None
    return (f"A {'live' if livemode else 'test'}-mode event, and Stripe is connected here with a "
            f"{'live' if connection.livemode else 'test'}-mode key: not processed. The webhook signing secret and "
            "the secret key must be of the same mode.")


def _record(session: Session, vendor_id: int, event: dict):
    """The event's record, made on its first delivery, with one more attempt counted: (id, done_at)."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(_EVENTS).values(vendor_id=vendor_id, event_id=event["id"][:255], type=event["type"][:100],
                                       received_at=utcnow(), attempts=1, last_error="")
    return session.execute(statement.on_conflict_do_update(
        index_elements=["vendor_id", "event_id"], set_={"attempts": _EVENTS.c.attempts + 1})
        .returning(_EVENTS.c.id, _EVENTS.c.done_at)).one()


def _done(record_id: int, error: str = ""):
    return update(_EVENTS).where(_EVENTS.c.id == record_id).values(done_at=utcnow(), last_error=error[:500])


def _finish(session: Session, record_id: int, error: str = "") -> None:
    session.execute(_done(record_id, error))
    session.commit()


def _note_unseen(session: Session, vendor_id: int, subscription_id: str, missing: str) -> None:
    """Tell the vendor (Needs attention) of a subscription an event signed with their webhook secret names and their
    Stripe key cannot see: most likely the secret and the key are of different Stripe accounts, and that account's
    buyers get no keys. Once for each subscription; reconnecting Stripe or dismissing it clears it."""
    known = session.exec(select(StripeDrift.id).where(StripeDrift.vendor_id == vendor_id, StripeDrift.kind == UNSEEN,
                                                      StripeDrift.stripe_id == subscription_id)).first()
    if known is None:
        session.add(StripeDrift(vendor_id=vendor_id, kind=UNSEEN, stripe_id=subscription_id, detail=(
            f"An event signed with your webhook secret names this subscription, and your Stripe key cannot see it "
            f"({missing}). If the webhook's signing secret and the secret key in Settings are of different Stripe "
            f"accounts, that account's buyers get no keys: paste both from one account.")[:PROBLEM_MAX]))


def note_failure(session: Session, *, vendor_id: int, event_id: str, error: str) -> None:
    """What kept an event from being done, for the vendor (never a secret: Stripe masks keys in its messages)."""
    session.rollback()
    session.execute(update(StripeEvent).where(StripeEvent.vendor_id == vendor_id, StripeEvent.event_id == event_id)
                    .values(last_error=error[:500]))
    session.commit()


def handle_event(session: Session, access: StripeAccess, *, connection: StripeConnection, event: dict,
                 portal_link: str | None = None) -> str:
    """Do an event's work once; returns "done", "duplicate" or "ignored". Raises if it must be delivered again.

    The caller's transaction (the webhook's lookup, which only reads) ends first, before Stripe is called. The event's
    record is committed together with its sync (the subscription's record and its key), or with its ending when it
    has nothing to do; a delivery that fails before that commit is counted all the same. The event is marked done
    in the transaction that marks the key written, once Stripe has taken it."""
    vendor_id = connection.vendor_id
    gateway = access.gateway(connection)
    subscription_id = subscription_named_by(event)
    try:
        current, missing = None, ""
        read_at = database_now(session)  # one clock for every process (portal/billing/sync.py: _claim)
        session.commit()  # the caller's lookup ends (it only read): no transaction open while Stripe answers
        if subscription_id is not None:
            try:
                current = gateway.subscription(subscription_id)
            except StripeMissing as error:  # not in this vendor's Stripe account: nothing to do, now or on a redelivery
                missing = f"Stripe answered: {error}"
        record = _record(session, vendor_id, event)
        if record.done_at is not None:
            session.commit()
            return "duplicate"
        if current is None:
            if missing:
                _note_unseen(session, vendor_id, subscription_id, missing)
            _finish(session, record.id, missing)
            return "ignored"
        state = StripeSubscription.read(current, read_at=read_at)
        synced = sync(session, connection=connection, state=state, actor=f"{ACTOR} {event['id']}",
                      portal_link=portal_link)
        session.commit()
    except Exception:
        session.rollback()
        _record(session, vendor_id, event)  # the delivery counted, its record there for note_failure
        session.commit()
        raise
    write_back(session, gateway, row=synced.row, state=state, synced=synced, then=lambda: _done(record.id))
    return "done"


def settle(session: Session, gateway: Gateway, *, connection: StripeConnection, subscription: dict,
           read_at: datetime, actor: str, portal_link: str | None = None,
           then: Callable[[], Executable] | None = None) -> Subscription:
    """Sync a subscription (as Stripe has it now: the read that gave it began at `read_at`) and its key, commit,
    then write `skm_key_id` back: what every event, refresh, repair and reconcile run does for one subscription.
    `then` gives a statement committed with the end of the write-back (an event marked done)."""
    state = StripeSubscription.read(subscription, read_at=read_at)
    synced = sync(session, connection=connection, state=state, actor=actor, portal_link=portal_link)
    session.commit()
    write_back(session, gateway, row=synced.row, state=state, synced=synced, then=then)
    return synced.row


def _idempotency_key(state: StripeSubscription, key_id: int) -> str:
    """The write-back's idempotency key: the same for every retry of one write, and new when what Stripe shows has
    changed since (a repair after someone altered the metadata must write again, not get the first answer back
    from Stripe's 24-hour memory of the key)."""
    shown = json.dumps({k: state.metadata.get(k) for k in (TEMP_VAR, "skm_key_id", "skm_key_globalid")},
                       sort_keys=True)
    return f"skm-key-{state.id}-{key_id}-{hashlib.sha256(shown.encode()).hexdigest()[:16]}"


def write_back(session: Session, gateway: Gateway, *, row: Subscription, state: StripeSubscription,
               synced: Synced | None = None, then: Callable[[], Executable] | None = None) -> None:
    """`skm_key_id` and `skm_key_globalid` on the subscription, `skm_temp_var` gone, `skm_customer_id` on the
    customer: skipped where Stripe already shows them, marked written (in one transaction, with `then`'s statement)
    only once Stripe has taken them. `synced`, the sync just committed, saves reading again what it knows."""
    marks, written = [], []
    if row.key_id is not None and not row.key_written:
        key_number = synced.key_number if synced is not None else None
        if key_number is None:
            key_number = session.exec(select(LicenseKey.key_number).where(LicenseKey.id == row.key_id)).one()
            session.commit()
        wanted = {"skm_key_id": str(key_number), "skm_key_globalid": str(row.key_id)}
        if TEMP_VAR in state.metadata or any(state.metadata.get(k) != v for k, v in wanted.items()):
            gateway.update_subscription_metadata(state.id, {**wanted, TEMP_VAR: ""},
                                                 idempotency_key=_idempotency_key(state, row.key_id))
        records = Subscription.__table__
        marks.append(update(records).where(records.c.id == row.id, records.c.key_id == row.key_id)
                     .values(key_written=True, key_written_at=database_now_in_sql(session)))
        written.append((row, "key_written"))
    if synced is not None:
        link = synced.customer_link
    else:
        link = session.exec(select(StripeCustomer).where(StripeCustomer.vendor_id == row.vendor_id,
                                                         StripeCustomer.stripe_customer_id == state.customer.get("id"),
                                                         StripeCustomer.metadata_written.is_(False))).first()
        session.commit()
    if link is not None:
        wanted = str(link.customer_id)
        if (state.customer.get("metadata") or {}).get("skm_customer_id") != wanted:
            gateway.update_customer_metadata(link.stripe_customer_id, {"skm_customer_id": wanted},
                                             idempotency_key=f"skm-customer-{link.stripe_customer_id}-{wanted}")
        links = StripeCustomer.__table__
        marks.append(update(links).where(links.c.id == link.id).values(metadata_written=True))
        written.append((link, "metadata_written"))
    if then is not None:
        marks.append(then())
    if marks:
        for mark in marks:
            session.execute(mark)
        session.commit()
    for record, name in written:  # plain table UPDATEs: the loaded records are told what they now hold
        set_committed_value(record, name, True)
        if name == "key_written":
            session.expire(record, ["key_written_at"])  # the database's clock set it: read again when asked
