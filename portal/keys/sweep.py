"""The periodic job that blocks expired keys for vendors who turned "block expired keys" on."""

from huey import crontab

from portal.jobs import huey, in_batches
from portal.keys.services import block_expired_keys


@huey.periodic_task(crontab(minute="*/5"))
def sweep_expired_keys() -> int:
    return in_batches(block_expired_keys)
