"""The periodic jobs of keys: block expired keys for vendors who turned "block expired keys" on, and remind
customers of keys about to expire for vendors who asked for it."""

from huey import crontab

from portal.jobs import huey, in_batches
from portal.keys.reminders import remind_expiring_keys
from portal.keys.services import block_expired_keys


@huey.periodic_task(crontab(minute="*/5"))
def sweep_expired_keys() -> int:
    return in_batches(block_expired_keys)


@huey.periodic_task(crontab(minute="41"))
def remind_of_expiring_keys() -> int:
    """Hourly: the reminders due (a reminder is for a day, so an hour late is on time)."""
    return in_batches(remind_expiring_keys)
