"""The reminder before a key expires, for vendors who set "remind N days before": one mail per key and expiry.

A key whose expiry moved (extended, renewed) has a new expiry, reminded of only when it in turn comes near; keys a
Stripe subscription pays for (a `cryptolens_stripesubscriptionitemid` data object, a subscription record, a
renewal day) renew by themselves and are never reminded. Run every hour by portal/keys/sweep.py.
"""

from datetime import datetime, timedelta

from sqlalchemy import exists, or_
from sqlmodel import Session, select

from portal.audit import record_change
from portal.billing_models import Subscription
from portal.keys import countdown
from portal.keys.managed import hidden_subscription_key_ids, stripe_managed_key_ids
from portal.keys.notify import mail_expiry_reminder
from portal.models import LicenseKey, Product, Vendor, utcnow

MAX_DAYS = 365


def due_for_reminder(vendor: Vendor, now: datetime):
    """The conditions of a key of `vendor` whose customer is to be reminded now."""
    # A key a subscription pays for renews with it, unless the subscription is hidden since a switch of Stripe keys:
    # its customer is reminded like any other.
    paid_by_subscription = exists().where(Subscription.key_id == LicenseKey.id) \
        & LicenseKey.id.not_in(hidden_subscription_key_ids())
    return (LicenseKey.vendor_id == vendor.id, LicenseKey.customer_id.is_not(None), LicenseKey.block.is_(False),
            LicenseKey.expires > now, LicenseKey.expires <= now + timedelta(days=vendor.remind_days_before_expiry),
            or_(LicenseKey.reminded_expiry.is_(None), LicenseKey.reminded_expiry != LicenseKey.expires),
            LicenseKey.renews_on.is_(None), LicenseKey.id.not_in(stripe_managed_key_ids()), ~paid_by_subscription,
            ~countdown.not_started())


def remind_expiring_keys(session: Session, *, now: datetime | None = None, limit: int = 200) -> int:
    """Mail the reminders of up to `limit` keys due for one, each marked with the expiry it was for; returns how
    many keys. The mails go once the session commits (with the marks)."""
    now = now or utcnow()
    done = 0
    vendors = session.exec(select(Vendor).where(Vendor.remind_days_before_expiry > 0,
                                                Vendor.portal_enabled.is_(True)).order_by(Vendor.id)).all()
    for vendor in vendors:
        due = session.exec(select(LicenseKey, Product).join(Product, Product.id == LicenseKey.product_id)
                           .where(*due_for_reminder(vendor, now)).order_by(LicenseKey.id)
                           .limit(limit - done).with_for_update(of=LicenseKey)).all()
        for key, product in due:
            key.reminded_expiry = key.expires
            session.add(key)
            sent_to = mail_expiry_reminder(session, key=key, vendor=vendor, product=product)
            record_change(session, vendor_id=vendor.id, actor="system: expiry reminder", action="key.expiry_reminded",
                          subject_type="key", subject_id=key.id, after={"expires": key.expires.isoformat(),
                                                                         "mails": sent_to})
        done += len(due)
        if done >= limit:
            break
    return done
