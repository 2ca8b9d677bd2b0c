"""The periodic job beside the expiry sweep: block the keys of subscriptions whose renewal stayed unpaid past
the vendor's grace days. A later payment unblocks them (portal/billing/sync.py)."""

from datetime import datetime

from flask import current_app
from huey import crontab
from sqlmodel import Session, select

from portal.billing.connection import connected_vendors
from portal.billing.gateway import StripeRefused, StripeUnavailable
from portal.billing.reconcile import reconcile
from portal.billing.sync import block_for, overdue
from portal.billing_models import OVERDUE, StripeConnection, Subscription, of_the_connection
from portal.domain import DomainError
from portal.jobs import huey, in_batches, job_session
from portal.models import LicenseKey, utcnow
from portal.urls import url_outside_request

ACTOR = "stripe: unpaid renewal"


def block_overdue_keys(session: Session, *, now: datetime | None = None, limit: int = 500) -> int:
    """Block up to `limit` keys of past-due subscriptions whose grace days have passed (the key's expiry, which
    an unpaid period does not move: portal/billing/sync.py); returns how many. Only the subscriptions of the account
    and mode each vendor's Stripe is connected in: another's record is no longer kept up to date (its keys run to
    their expiry)."""
    now = now or utcnow()
    rows = session.exec(
        select(Subscription, LicenseKey).join(LicenseKey, LicenseKey.id == Subscription.key_id)
        .join(StripeConnection, StripeConnection.vendor_id == Subscription.vendor_id)
        .where(Subscription.status.in_(OVERDUE), of_the_connection(Subscription, StripeConnection),
               LicenseKey.block.is_(False), LicenseKey.expires <= now)
        .with_for_update(of=Subscription).limit(limit)).all()
    for row, key in rows:
        if overdue(row, key, now):
            block_for(session, row, key, "payment", ACTOR)
            session.add(row)
    return len(rows)


@huey.periodic_task(crontab(minute="*/5"))
def sweep_unpaid_subscriptions() -> int:
    return in_batches(block_overdue_keys)


@huey.periodic_task(crontab(minute="17"))
def reconcile_every_vendor() -> int:
    """Hourly: every connected vendor's Stripe and keys brought into agreement (what `flask stripe reconcile`
    does); a vendor whose Stripe cannot be reached is tried again next hour."""
    repaired = 0
    with job_session() as session:
        access = current_app.extensions["stripe_access"]
        for vendor, connection in connected_vendors(session, None):
            try:
                repaired += reconcile(session, access, connection=connection, dry_run=False,
                                      actor="stripe reconcile (hourly)",
                                      portal_link=url_outside_request("dashboard.index", vendor_slug=vendor.slug)
                                      ).repaired
            except (StripeUnavailable, StripeRefused, DomainError):
                session.rollback()
    return repaired
