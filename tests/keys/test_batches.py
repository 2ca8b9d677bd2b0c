"""Bulk creation: exact totals, unique keys, whole batches after a crash, and a resume to the total."""

import multiprocessing
import os
import signal

import pytest
from sqlmodel import func, select

from portal.keys import batches
from portal.keys.services import KeySettings
from portal.models import KeyBatch, LicenseKey
from tests.support.pages import post_form


@pytest.fixture
def product(make, vendor):
    return make.product(vendor)


def count_keys(db, product) -> tuple[int, int, int]:
    total, distinct_keys, distinct_ids = db.exec(select(
        func.count(), func.count(func.distinct(LicenseKey.key)), func.count(func.distinct(LicenseKey.key_number)))
        .where(LicenseKey.product_id == product.id)).one()
    return total, distinct_keys, distinct_ids


def test_ten_thousand_keys_from_the_form(vendor_client, product, db):
    response = post_form(vendor_client, "/vendor/keys/bulk", {
        "product_id": product.id, "count": "10000", "period": "365", "f1": "y"}, page="/vendor/keys/bulk")
    [batch] = db.exec(select(KeyBatch)).all()
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/keys/batches/{batch.id}"
    assert count_keys(db, product) == (10_000, 10_000, 10_000)
    page = vendor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "10,000 of 10,000 made" in page and "Done." in page and "hx-trigger" not in page
    numbers = db.exec(select(func.min(LicenseKey.key_number), func.max(LicenseKey.key_number))
                      .where(LicenseKey.product_id == product.id)).one()
    assert tuple(numbers) == (1, 10_000)


@pytest.mark.parametrize("count", ["0", "10001", "", "many"])
def test_bad_counts_are_refused(vendor_client, product, db, count):
    response = post_form(vendor_client, "/vendor/keys/bulk", {"product_id": product.id, "count": count,
                                                             "period": "30"}, page="/vendor/keys/bulk")
    assert response.status_code == 422 and 'id="count-error"' in response.get_data(as_text=True)
    if count in ("0", "10001"):  # a number outside the range: the range is what is wrong
        assert "Make between 1 and 10,000 keys at a time." in response.get_data(as_text=True)
    assert db.exec(select(KeyBatch)).all() == []


def _crash_after_steps(config: dict, batch_id: int, steps: int, done) -> None:
    """Run a batch like the worker does, then die by SIGKILL in the middle of the next transaction."""
    from sqlmodel import Session

    from portal import create_app

    app = create_app(config)
    engine = app.extensions["db_engine"]
    with app.app_context():
        for _ in range(steps):
            with Session(engine) as session:
                batches.run_step(session, batch_id=batch_id)
                session.commit()
        with Session(engine) as session:
            batches.run_step(session, batch_id=batch_id)  # made, flushed, not committed
            done.set()
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.processes
def test_a_killed_job_leaves_whole_batches_and_resumes_to_the_total(app, product, db, monkeypatch):
    monkeypatch.setattr(batches, "make_batch_keys", lambda batch_id: None)  # queue it, run it by hand below
    batch = batches.start_batch(db, product=product, settings=KeySettings(period=30), count=1200, actor="test")
    db.commit()
    config = {key: app.config[key] for key in ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND")}
    context = multiprocessing.get_context("spawn")
    done = context.Event()
    worker = context.Process(target=_crash_after_steps, args=(config, batch.id, 1, done))
    worker.start()
    worker.join(timeout=60)
    assert done.is_set() and worker.exitcode == -signal.SIGKILL

    stored = db.get(KeyBatch, batch.id)
    assert stored.created_count == batches.BATCH_SIZE and stored.status == "running"
    assert count_keys(db, product) == (batches.BATCH_SIZE,) * 3, "only whole, committed batches"

    monkeypatch.undo()
    batches.resume_batch(db, batch=stored, actor="test")
    with app.app_context():
        db.commit()  # the job runs inline, in this app, under the test configuration
    assert db.get(KeyBatch, batch.id).status == "done"
    assert count_keys(db, product) == (1200, 1200, 1200)


def test_a_silent_job_shows_as_interrupted_with_a_resume_button(vendor_client, product, db, monkeypatch):
    from datetime import timedelta

    from portal.models import utcnow

    monkeypatch.setattr(batches, "make_batch_keys", lambda batch_id: None)
    batch = batches.start_batch(db, product=product, settings=KeySettings(), count=10, actor="test")
    batch.heartbeat_at = utcnow() - timedelta(minutes=5)
    db.commit()
    page = vendor_client.get(f"/vendor/keys/batches/{batch.id}").get_data(as_text=True)
    assert "Interrupted." in page and "Resume to 10" in page
    monkeypatch.undo()
    response = post_form(vendor_client, f"/vendor/keys/batches/{batch.id}/resume", {},
                         page=f"/vendor/keys/batches/{batch.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/keys/batches/{batch.id}"
    assert count_keys(db, product) == (10, 10, 10)


def test_progress_fragment_polls_while_running(vendor_client, product, db, monkeypatch):
    monkeypatch.setattr(batches, "make_batch_keys", lambda batch_id: None)
    batch = batches.start_batch(db, product=product, settings=KeySettings(), count=10, actor="test")
    db.commit()
    fragment = vendor_client.get(f"/vendor/keys/batches/{batch.id}", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in html and "<html" not in html and "0 of 10 made" in html


def test_a_job_whose_customer_was_deleted_stops_and_says_why(app, vendor_client, make, vendor, product, db,
                                                             monkeypatch):
    customer = make.customer(vendor)
    monkeypatch.setattr(batches, "make_batch_keys", lambda batch_id: None)
    batch = batches.start_batch(db, product=product, settings=KeySettings(customer_id=customer.id), count=10,
                                actor="test")
    db.commit()
    post_form(vendor_client, f"/vendor/customers/{customer.id}/delete", {})
    monkeypatch.undo()
    with app.app_context():
        batches.make_batch_keys.call_local(batch.id)
    stored = db.get(KeyBatch, batch.id)
    assert stored.status == "failed" and "customer" in stored.error
    page = vendor_client.get(f"/vendor/keys/batches/{batch.id}").get_data(as_text=True)
    assert "Stopped:" in page and "Resume" not in page


def test_a_finished_batch_shows_and_exports_exactly_its_keys(vendor_client, make, product, db):
    alone = make.key(product)
    for count in ("3", "2"):
        post_form(vendor_client, "/vendor/keys/bulk", {"product_id": product.id, "count": count, "period": "30"},
                  page="/vendor/keys/bulk")
    first, second = db.exec(select(KeyBatch).order_by(KeyBatch.id)).all()
    made = db.exec(select(LicenseKey.key).where(LicenseKey.batch_id == second.id)).all()
    assert len(made) == 2

    page = vendor_client.get(f"/vendor/keys/batches/{second.id}").get_data(as_text=True)
    query = f"batch+%3D+{second.id}"
    assert f'href="/vendor/products/{product.id}?q={query}">See these keys</a>' in page
    assert f'href="/vendor/products/{product.id}/keys.csv?q={query}" download>Download them as CSV</a>' in page

    shown = vendor_client.get(f"/vendor/products/{product.id}?q=batch = {second.id}").get_data(as_text=True)
    assert all(key in shown for key in made) and alone.key not in shown
    exported = vendor_client.get(f"/vendor/products/{product.id}/keys.csv?q=batch = {second.id}")
    rows = exported.get_data(as_text=True).splitlines()
    assert len(rows) == 3 and sorted(row.split(",")[1] for row in rows[1:]) == sorted(made)
    # A key made alone is of no batch: the complement of a batch holds it.
    others = vendor_client.get(f"/vendor/products/{product.id}/keys.csv?q=not batch = {second.id}")
    assert len(others.get_data(as_text=True).splitlines()) == 1 + 1 + 3


def test_keys_made_alone_are_of_no_batch(vendor_client, make, product, db):
    alone = make.key(product)
    post_form(vendor_client, "/vendor/keys/bulk", {"product_id": product.id, "count": "2", "period": "30"},
              page="/vendor/keys/bulk")
    shown = vendor_client.get(f"/vendor/products/{product.id}/keys.csv?q=batch = none").get_data(as_text=True)
    assert [row.split(",")[1] for row in shown.splitlines()[1:]] == [alone.key]
    refused = vendor_client.get(f"/vendor/products/{product.id}?q=batch < none")
    assert refused.status_code == 400 and "Only = and != compare with none" in refused.get_data(as_text=True)
