"""Of two reads of one subscription, the one begun later is kept, whichever commits last: a delivery that read
Stripe before a renewal and commits after the renewal's own sync must not move the paid key's expiry back (both
events are done then, and Stripe would not deliver either again)."""

from datetime import timedelta

import pytest
from sqlmodel import select

import portal.db
from portal.billing import reconcile
from portal.billing.events import handle_event
from portal.billing.gateway import Gateway
from portal.billing_models import StripeConnection, StripeEvent, Subscription
from portal.models import utcnow
from tests.billing.conftest import app_session


def _connection(session) -> StripeConnection:
    return session.exec(select(StripeConnection)).one()


def test_a_read_from_before_the_renewal_committed_after_it_leaves_the_renewed_key(shop, customer, monkeypatch):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    first_expiry = shop.key().expires
    with app_session(shop.app) as session:
        before_renewal = shop.access.gateway(_connection(session)).subscription(subscription["id"])
    shop.standin.hold_deliveries()
    shop.standin.advance_subscription(shop.secret_key, subscription["id"], outcome="paid")
    held = {event["type"]: event for event in shop.standin.pending_events(shop.secret_key)}
    late, prompt = held["invoice.paid"], held["customer.subscription.updated"]
    real, renewed = Gateway.subscription, []

    def slow_read(self, subscription_id):
        """Delivery A has read Stripe before the renewal, then waits (descheduled, or for SQLite's write lock)
        while delivery B reads the renewed subscription and commits first."""
        monkeypatch.setattr(Gateway, "subscription", real)
        with app_session(shop.app) as other:
            assert handle_event(other, shop.access, connection=_connection(other), event=prompt) == "done"
        shop.db.expire_all()
        renewed.append(shop.key().expires)
        return before_renewal

    monkeypatch.setattr(Gateway, "subscription", slow_read)
    with app_session(shop.app) as session:
        assert handle_event(session, shop.access, connection=_connection(session), event=late) == "done"
    shop.db.expire_all()
    record = shop.db.exec(select(Subscription)).one()
    assert renewed[0] > first_expiry and shop.key().expires == renewed[0]
    grace = timedelta(days=shop.db.exec(select(StripeConnection)).one().grace_days)
    assert record.current_period_end + grace == renewed[0]  # the record holds the renewed period too
    done = {event.event_id for event in shop.db.exec(select(StripeEvent)) if event.done_at}
    assert done >= {late["id"], prompt["id"]}
    with app_session(shop.app) as session:
        assert reconcile.local_findings(session, vendor_id=shop.vendor.id) == []


def test_a_refresh_that_read_before_a_delivery_committed_after_it_changes_nothing(shop, customer, monkeypatch):
    """The customer's Refresh reads the subscriptions once, then syncs each: a renewal synced meanwhile stands."""
    from portal.subscriptions import services

    subscription = shop.subscribe(customer=customer)
    shop.settle()
    shop.standin.hold_deliveries()
    real = Gateway.subscriptions

    def list_then_renew(self, **kwargs):
        found = real(self, **kwargs)  # read before the renewal
        shop.standin.advance_subscription(shop.secret_key, subscription["id"], outcome="paid")
        shop.standin.release_deliveries()
        shop.settle()
        shop.db.expire_all()
        renewed.append(shop.key().expires)
        return found

    renewed = []
    monkeypatch.setattr(Gateway, "subscriptions", list_then_renew)
    with app_session(shop.app) as session:
        services.refresh(session, shop.access, vendor_id=shop.vendor.id, customer_id=customer.id, actor="test",
                         portal_link="/Portal/")
    shop.db.expire_all()
    assert shop.key().expires == renewed[0]


def test_a_clock_running_fast_in_one_process_does_not_drop_a_renewal(shop, customer, monkeypatch, db):
    """A repair run by a process whose clock is two minutes fast (another host), then the renewal, handled by a
    web process with the right time: reads are ordered by the database's clock, not by the processes' own."""
    if db.get_bind().dialect.name == "sqlite":
        pytest.skip("SQLite's processes share one machine's clock")
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    first_expiry = shop.key().expires
    monkeypatch.setattr(portal.db, "utcnow", lambda: utcnow() + timedelta(minutes=2))
    with app_session(shop.app) as session:
        reconcile.repair_subscription(session, shop.access, connection=_connection(session),
                                      stripe_subscription_id=subscription["id"], actor="test", portal_link=None)
    monkeypatch.setattr(portal.db, "utcnow", utcnow)
    shop.standin.advance_subscription(shop.secret_key, subscription["id"], outcome="paid")
    shop.settle()
    shop.db.expire_all()
    assert shop.key().expires > first_expiry, "the paid renewal was dropped; the key expires at the old period"
