"""The job consumer (`huey_consumer portal.worker.huey`, Redis queue) SIGKILLed in the middle of a bulk batch, of
a mail burst and of a burst of sign-ups: huey does not run again a task whose consumer died, so what must happen
is kept in the database (the batch's counts, portal/keys/batches.py; the outgoing mail, portal/mail.py; the login
requests, portal/signup/pending.py) and the periodic sweeps finish it (portal/keys/sweep.py
`resume_interrupted_batches`, portal/mail.py `sweep_unsent_mail`, portal/signup/pending.py `sweep_lost_requests`).
Here each sweep is run as its periodic task would be, a sweep period later. A webhook's follow-up work is its
new-license mail (portal/keys/notify.py), written in the webhook's transaction like every other mail: the burst
sends that mail."""

import time
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlmodel import func, select

from portal import jobs, mail
from portal.keys import batches
from portal.keys.services import KeySettings
from portal.models import KeyBatch, LicenseKey, OutgoingMail, PendingLogin, utcnow
from portal.signup import pending
from tests.production.conftest import needs_postgresql
from tests.support.gunicorn import Consumer
from tests.support.mail import LINK, text_of
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
    return utcnow() + max(batches.STALE_AFTER, mail.STALE_AFTER, pending.STALE_AFTER) + timedelta(seconds=1)


def every_mail_sent_after_the_sweep(db, mailbox, addresses: list[str]) -> None:
    """Once the restarted consumer has done what was still queued, the mail sweep sends what was lost: every
    address gets its mail, and every mail is marked sent."""
    wait_until(lambda: jobs.huey.pending_count() == 0, what="the jobs still queued")
    time.sleep(0.5)  # the last of them done
    mail.resend_unsent_mail(now=a_sweep_period_later())
    wait_until(lambda: {m["To"] for m in mailbox.messages} == set(addresses), what="every mail")
    wait_until(lambda: db.exec(select(func.count()).select_from(OutgoingMail)
                               .where(OutgoingMail.sent_at.is_(None))).one() == 0, what="every mail marked")


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
        every_mail_sent_after_the_sweep(db, mailbox, recipients)
    finally:
        consumer.stop()
    assert all(row.context == "{}" for row in db.exec(select(OutgoingMail))), "a sent mail's links are not kept"


def test_a_consumer_killed_in_a_burst_of_sign_ups_mails_each_one_link(app, vendor, db, mailbox, queue):
    """Each sign-up's request is kept by its own transaction; its job (a confirmation link, itself a mail job) dies
    with the consumer, and here the queue's waiting jobs go too (Redis restarted without a copy on disk): the
    sweeps mail every one, and every mailed link works."""
    emails = [f"signup{n}@example.test" for n in range(120)]
    pages = pending.Pages(confirm_page="https://portal.test/Portal/@acme/Confirm",
                          login_page="https://portal.test/Portal/@acme/Login",
                          forgot_page="https://portal.test/Portal/@acme/ForgotPassword")
    for email in emails:
        pending.request_login(db, vendor_id=vendor.id, name="New", email=email, password="grace-pw-12345678",
                              pages=pages)
        db.commit()  # one request each, as the sign-up page commits them; each queues its job
    mailed = select(func.count()).select_from(PendingLogin).where(PendingLogin.token_hash.is_not(None))
    consumer = Consumer(queue).start()
    try:
        wait_until(lambda: db.exec(mailed).one() >= 20, timeout=60, what="the burst to start")
        consumer.kill()
        jobs.huey.flush()
        assert db.exec(mailed).one() < len(emails), "killed in the middle"
        consumer = Consumer(queue).start()
        assert pending.queue_lost_requests(now=a_sweep_period_later()) > 0
        every_mail_sent_after_the_sweep(db, mailbox, emails)
        assert pending.queue_lost_requests(now=a_sweep_period_later() + pending.STALE_AFTER) == 0
    finally:
        consumer.stop()
    requests = db.exec(select(PendingLogin)).all()
    assert len(requests) == len(emails) and all(request.token_hash for request in requests)
    for email in emails:  # one link each, even where its mail went twice (the consumer killed before marking it)
        tokens = {link.split("token=", 1)[1] for message in mailbox.to(email)
                  for link in LINK.findall(text_of(message)) if "/Confirm?token=" in link}
        assert len(tokens) == 1 and pending.peek(db, vendor_id=vendor.id, token=tokens.pop())
