"""Entry point of the job consumer: `huey_consumer portal.worker.huey`."""

from portal import create_app, jobs
from portal.jobs import huey

# Building the app registers every job (mail, bulk keys, the expiry sweep); jobs then run inside it.
jobs.bind_worker_app(create_app())

__all__ = ["huey"]
