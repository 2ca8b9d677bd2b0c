"""The periodic sweep resumes a bulk batch whose job died (huey does not run a killed consumer's task again), and
leaves a live one alone."""

from datetime import timedelta

from sqlmodel import func, select

from portal.keys import batches
from portal.keys.services import KeySettings
from portal.keys.sweep import resume_interrupted_batches
from portal.models import AuditEvent, KeyBatch, LicenseKey, utcnow


def test_the_sweep_finishes_a_batch_whose_job_died_and_leaves_a_live_one(app, make, vendor, db, monkeypatch):
    product = make.product(vendor)
    monkeypatch.setattr(batches, "make_batch_keys", lambda batch_id: None)  # queued, never run
    dead = batches.start_batch(db, product=product, settings=KeySettings(period=30), count=700, actor="test")
    live = batches.start_batch(db, product=product, settings=KeySettings(period=30), count=5, actor="test")
    dead.created = utcnow() - batches.STALE_AFTER - timedelta(seconds=1)
    db.commit()
    monkeypatch.undo()

    assert resume_interrupted_batches.call_local() == 1
    assert (db.get(KeyBatch, dead.id).status, db.get(KeyBatch, live.id).status) == ("done", "queued")
    assert db.exec(select(func.count()).select_from(LicenseKey)).one() == 700
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "key_batch.resumed")).one().actor == "job sweep"
    assert resume_interrupted_batches.call_local() == 0
