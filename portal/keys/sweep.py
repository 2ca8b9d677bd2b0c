"""The periodic job that blocks expired keys for vendors who turned "block expired keys" on."""

from flask import current_app
from huey import crontab
from sqlmodel import Session

from portal.jobs import app_context, huey
from portal.keys.services import block_expired_keys


@huey.periodic_task(crontab(minute="*/5"))
def sweep_expired_keys() -> int:
    blocked = 0
    with app_context():
        engine = current_app.extensions["db_engine"]
        while True:
            with Session(engine) as session:
                count = block_expired_keys(session)
                session.commit()
            blocked += count
            if count == 0:
                return blocked
