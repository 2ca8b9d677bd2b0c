"""The health checks: each one a trivial call to what a request or a job needs, True when it answered."""

import logging

from sqlalchemy import text
from sqlalchemy.engine import Engine

from portal.jobs import huey

log = logging.getLogger(__name__)


def database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not healthy"; the log says which
        log.warning("health check: the database did not answer", exc_info=True)
        return False


def queue_answers() -> bool:
    """The job queue's storage (Redis or the SQLite file) answers a read."""
    try:
        huey.pending_count()
        return True
    except Exception:  # noqa: BLE001
        log.warning("health check: the job queue did not answer", exc_info=True)
        return False


def failed_checks(engine: Engine) -> list[str]:
    """The names of the checks that failed, in a fixed order; empty when healthy."""
    checks = {"database": lambda: database_answers(engine), "jobs": queue_answers}
    return [name for name, answers in checks.items() if not answers()]
