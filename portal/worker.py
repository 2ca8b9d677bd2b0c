"""Entry point of the job consumer: `huey_consumer portal.worker.huey`."""

from portal import mail  # noqa: F401 - registers the mail job
from portal.jobs import huey

__all__ = ["huey"]
