"""Entry point of the job consumer: `huey_consumer portal.worker.huey`."""

from portal import create_app, jobs

# Building the app puts the queue where the configuration says and imports every module that declares a job (mail,
# sign-up, password reset, bulk keys, the expiry sweep); jobs then run inside this app.
app = create_app()
jobs.bind_worker_app(app)
huey = jobs.huey
