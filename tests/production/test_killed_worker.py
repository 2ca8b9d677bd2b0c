"""The job consumer (`huey_consumer portal.worker.huey`, Redis queue) SIGKILLed in the middle of a bulk batch and of
a mail burst: huey does not run again a task whose consumer died, so what must happen is kept in the database
(the batch's counts, portal/keys/batches.py; the outgoing mail, portal/mail.py) and the periodic sweeps finish it
(portal/keys/sweep.py `resume_interrupted_batches`, portal/mail.py `sweep_unsent_mail`). Here each sweep is run
as its periodic task would be, a sweep period later. A webhook's follow-up work is its new-license mail
(portal/keys/notify.py), written in the webhook's transaction like every other mail: the burst sends that mail."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import func, select

from portal import jobs, mail
from portal.keys import batches
from portal.keys.services import KeySettings
from portal.models import KeyBatch, LicenseKey, OutgoingMail, utcnow
from tests.production.conftest import needs_postgresql
from tests.support.gunicorn import Consumer
from tests.support.processes import child_config

pytestmark = [pytest.mark.processes, needs_postgresql()]


@pytest.fixture
def queue(app, shared_redis):
    """The test's own enqueues go to the consumer's Redis queue (the suite otherwise runs jobs inline)."""
    config = child_config(app, JOBS_IMMEDIATE=False, RATELIMIT_ENABLED=False, **shared_redis)
    app.config.update(JOBS_IMMEDIATE=False, **shared_redis)
    jobs.init_app(app)
    yield config
    app.config["JOBS_IMMEDIATE"] = True
    jobs.init_app(app)
    jobs.huey.name = "portal"


def wait_until(condition, timeout: float = 25, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def a_sweep_period_later():
    return utcnow() + max(batches.STALE_AFTER, mail.STALE_AFTER) + timedelta(seconds=1)


def test_a_consumer_killed_in_a_batch_leaves_every_key_once_after_the_sweep(app, make, vendor, db, queue):
    product = make.product(vendor)
    consumer = Consumer(queue).start()
    try:
        batch = batches.start_batch(db, product=product, settings=KeySettings(period=30), count=2000, actor="test")
        db.commit()  # enqueued to Redis; the consumer takes it
        wait_until(lambda: db.get(KeyBatch, batch.id).created_count >= 500, what="the batch to start")
        consumer.kill()
        stored = db.get(KeyBatch, batch.id)
        assert stored.status == "running" and stored.created_count < 2000
        consumer = Consumer(queue).start()
        assert batches.resume_interrupted(db, now=a_sweep_period_later()) == 1
        db.commit()
        wait_until(lambda: db.get(KeyBatch, batch.id).status == "done", what="the batch to finish")
    finally:
        consumer.stop()
    total, keys, numbers = db.exec(select(func.count(), func.count(func.distinct(LicenseKey.key)),
                                          func.count(func.distinct(LicenseKey.key_number)))
                                   .where(LicenseKey.product_id == product.id)).one()
    assert (total, keys, numbers) == (2000, 2000, 2000)


def test_a_consumer_killed_in_a_mail_burst_loses_no_mail(app, db, mailbox, queue):
    recipients = [f"buyer{n}@example.test" for n in range(120)]
    consumer = Consumer(queue).start()
    try:
        for to in recipients:
            mail.queue_mail(db, to=to, subject="Your new Demo App license from Acme", template="new_license",
                            vendor=SimpleNamespace(name="Acme", slug="acme"), product_name="Demo App",
                            portal_link="https://portal.test/", has_login=True, count=1)
        db.commit()
        wait_until(lambda: len(mailbox.messages) >= 20, what="the burst to start")
        consumer.kill()
        assert len({m["To"] for m in mailbox.messages}) < len(recipients), "killed in the middle"
        consumer = Consumer(queue).start()
        wait_until(lambda: jobs.huey.pending_count() == 0, what="the jobs still queued")
        time.sleep(0.5)  # the last of them sent
        mail.resend_unsent_mail(now=a_sweep_period_later())
        wait_until(lambda: {m["To"] for m in mailbox.messages} == set(recipients), what="every mail")
        wait_until(lambda: db.exec(select(func.count()).select_from(OutgoingMail)
                                   .where(OutgoingMail.sent_at.is_(None))).one() == 0, what="every mail marked")
    finally:
        consumer.stop()
    assert all(row.context == "{}" for row in db.exec(select(OutgoingMail))), "a sent mail's links are not kept"
