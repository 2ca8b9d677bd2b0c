"""The periodic jobs of keys: block expired keys for vendors who turned "block expired keys" on, remind customers
of keys about to expire for vendors who asked for it, and resume the bulk batches whose job died (huey does not
run again a task whose consumer was killed)."""

from datetime import datetime

from huey import crontab
from sqlalchemy import not_
from sqlmodel import Session, select

from portal.jobs import huey, in_batches
from portal.keys import countdown
from portal.keys.batches import resume_interrupted
from portal.keys.managed import stripe_managed_key_ids
from portal.keys.reminders import remind_expiring_keys
from portal.keys.services import set_blocked
from portal.models import LicenseKey, Vendor, utcnow


def block_expired_keys(session: Session, *, now: datetime | None = None, limit: int = 1000) -> int:
    """Block up to `limit` expired keys of vendors who asked for it; keys managed by Stripe are left alone.

    Expired as every page says it (keys/status.py): `expires <= now`."""
    now = now or utcnow()
    keys = session.exec(
        select(LicenseKey).join(Vendor, Vendor.id == LicenseKey.vendor_id)
        .where(Vendor.block_expired_keys.is_(True), LicenseKey.block.is_(False), LicenseKey.expires <= now,
               LicenseKey.id.not_in(stripe_managed_key_ids()), not_(countdown.with_starts_left()))
        .limit(limit)
    ).all()
    for key in keys:
        set_blocked(session, key=key, blocked=True, actor="system: expiry sweep", action="key.blocked_expired")
    return len(keys)


@huey.periodic_task(crontab(minute="*/5"))
def sweep_expired_keys() -> int:
    return in_batches(block_expired_keys)


@huey.periodic_task(crontab(minute="41"))
def remind_of_expiring_keys() -> int:
    """Hourly: the reminders due (a reminder is for a day, so an hour late is on time)."""
    return in_batches(remind_expiring_keys)


@huey.periodic_task(crontab(minute="*"))
def resume_interrupted_batches() -> int:
    # A resumed batch shows a sign of life at once, so the next round finds the rest, until none is left.
    return in_batches(resume_interrupted)
