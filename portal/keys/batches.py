"""Bulk creation of keys as a background job: whole batches commit together, so an interrupted job resumes."""

import json
from datetime import timedelta

from sqlmodel import Session, func, select

from portal.audit import record_change
from portal.domain import DomainError, get_owned
from portal.jobs import after_commit, huey, job_session
from portal.keys.notify import announce_new_license
from portal.keys.services import KeySettings, check_customer, create_keys
from portal.models import KeyBatch, Product, utcnow

MAX_KEYS = 10_000
BATCH_SIZE = 500
STALE_AFTER = timedelta(seconds=60)
FINISHED = ("done", "failed")


def is_interrupted(batch: KeyBatch) -> bool:
    """A job that is not finished and has shown no sign of life for a while: its worker died."""
    if batch.status in FINISHED:
        return False
    last_sign = batch.heartbeat_at or batch.created
    return utcnow() - last_sign > STALE_AFTER


def get_batch(session: Session, *, vendor_id: int, batch_id: int) -> KeyBatch:
    return get_owned(session, KeyBatch, batch_id, vendor_id=vendor_id)


def recent_batches(session: Session, *, product_id: int, limit: int = 5) -> list[KeyBatch]:
    return list(session.exec(select(KeyBatch).where(KeyBatch.product_id == product_id)
                             .order_by(KeyBatch.id.desc()).limit(limit)).all())


def start_batch(session: Session, *, product: Product, settings: KeySettings, count: int, actor: str,
                ip: str = "") -> KeyBatch:
    if not 1 <= count <= MAX_KEYS:
        raise DomainError(f"Make between 1 and {MAX_KEYS:,} keys at a time.", field="count")
    check_customer(session, product.vendor_id, settings.customer_id)
    batch = KeyBatch(vendor_id=product.vendor_id, product_id=product.id, requested=count,
                     settings=json.dumps(settings.to_json()))
    session.add(batch)
    session.flush()
    record_change(session, vendor_id=product.vendor_id, actor=actor, action="key_batch.started",
                  subject_type="product", subject_id=product.id, after={"batch": batch.id, "keys": count}, ip=ip)
    _enqueue_after_commit(session, batch.id)
    return batch


def resume_batch(session: Session, *, batch: KeyBatch, actor: str, ip: str = "") -> KeyBatch:
    if batch.status in FINISHED:
        raise DomainError("This job has finished.")
    batch.status, batch.heartbeat_at = "queued", utcnow()
    session.add(batch)
    record_change(session, vendor_id=batch.vendor_id, actor=actor, action="key_batch.resumed",
                  subject_type="product", subject_id=batch.product_id,
                  after={"batch": batch.id, "made": batch.created_count}, ip=ip)
    _enqueue_after_commit(session, batch.id)
    return batch


def resume_interrupted(session: Session, *, now=None, limit: int = 100) -> int:
    """Resume (once the session commits) up to `limit` batches whose job died: unfinished, no sign of life for
    STALE_AFTER. Two runs of one batch make each key once (`run_step` locks the batch's row)."""
    stale = (now or utcnow()) - STALE_AFTER
    found = session.exec(select(KeyBatch).where(
        KeyBatch.status.not_in(FINISHED), func.coalesce(KeyBatch.heartbeat_at, KeyBatch.created) < stale)
        .order_by(KeyBatch.id).limit(limit).with_for_update(skip_locked=True)).all()
    for batch in found:
        resume_batch(session, batch=batch, actor="job sweep")
    return len(found)


def _enqueue_after_commit(session: Session, batch_id: int) -> None:
    after_commit(session, lambda: make_batch_keys(batch_id))


def run_step(session: Session, *, batch_id: int) -> bool:
    """Make the next batch of keys in the caller's transaction; True while keys remain to be made."""
    batch = session.exec(select(KeyBatch).where(KeyBatch.id == batch_id).with_for_update()).first()
    if batch is None or batch.status in FINISHED:
        return False
    product = session.get(Product, batch.product_id)
    remaining = batch.requested - batch.created_count
    if product is None or remaining <= 0:
        batch.status = "done" if product else "failed"
        session.add(batch)
        return False
    made = create_keys(session, product=product, settings=KeySettings.from_json(json.loads(batch.settings)),
                       count=min(BATCH_SIZE, remaining), batch_id=batch.id)
    record_change(session, vendor_id=batch.vendor_id, actor=f"key batch {batch.id}", action="key_batch.keys_made",
                  subject_type="product", subject_id=product.id,
                  after={"batch": batch.id, "from_id": made[0].key_number, "to_id": made[-1].key_number})
    batch.created_count += len(made)
    batch.status = "done" if batch.created_count >= batch.requested else "running"
    batch.heartbeat_at = utcnow()
    session.add(batch)
    if batch.status == "done":  # keys made for one customer: one mail for the batch
        announce_new_license(session, key=made[-1], count=batch.requested)
    return batch.status == "running"


def fail_batch(session: Session, *, batch_id: int, reason: str) -> None:
    batch = session.get(KeyBatch, batch_id)
    if batch is not None and batch.status not in FINISHED:
        batch.status, batch.error = "failed", reason[:1000]
        session.add(batch)


@huey.task()
def make_batch_keys(batch_id: int) -> None:
    more = True
    while more:
        with job_session() as session:
            try:
                more = run_step(session, batch_id=batch_id)
                session.commit()
            except DomainError as refusal:  # e.g. the chosen customer was deleted meanwhile
                session.rollback()
                fail_batch(session, batch_id=batch_id, reason=refusal.message)
                session.commit()
                return
