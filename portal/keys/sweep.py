"""The periodic job that blocks expired keys for vendors who turned "block expired keys" on."""

from huey import crontab

from portal.jobs import huey, job_session
from portal.keys.services import block_expired_keys


@huey.periodic_task(crontab(minute="*/5"))
def sweep_expired_keys() -> int:
    blocked = 0
    while True:
        with job_session() as session:
            count = block_expired_keys(session)
            session.commit()
        blocked += count
        if count == 0:
            return blocked
