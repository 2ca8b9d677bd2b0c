"""The periodic jobs of keys: block expired keys for vendors who turned "block expired keys" on, remind customers
of keys about to expire for vendors who asked for it, and resume the bulk batches whose job died (huey does not
run again a task whose consumer was killed)."""

from huey import crontab

from portal.jobs import huey, in_batches
from portal.keys.batches import resume_interrupted
from portal.keys.reminders import remind_expiring_keys
from portal.keys.services import block_expired_keys


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
