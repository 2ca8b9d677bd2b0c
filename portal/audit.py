"""The audit trail: every change of a customer, account or data object is recorded with before and after."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from portal.models import AuditEvent

# Secrets and values derived from other fields: the trail would only repeat or leak them.
_NEVER_RECORDED = {"secret", "session_secret", "email_normalized", "email_domain", "next_key_number"}
_TOGETHER = "portal.audit_together"


def snapshot(record: Any, *, leave_out: tuple[str, ...] = ()) -> dict:
    """The fields of a record worth keeping in the trail, as JSON-ready values."""
    values = {}
    for name, value in record.model_dump().items():
        if name in leave_out or name in _NEVER_RECORDED or name.endswith(("_hash", "_encrypted")):
            continue
        values[name] = value.isoformat() if isinstance(value, datetime) else value
    return values


def record_change(
    session: Session,
    *,
    vendor_id: int,
    actor: str,
    action: str,
    subject_type: str,
    subject_id: int,
    before: dict | None = None,
    after: dict | None = None,
    ip: str = "",
) -> AuditEvent | None:
    """Record a change (None, and nothing recorded, when `before` and `after` are given and hold the same values:
    a form saved as it was is no change)."""
    if before is not None and after is not None:
        changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
        if (before or after) and not changed:
            return None
        before = {k: v for k, v in before.items() if k in changed}
        after = {k: v for k, v in after.items() if k in changed}
    event = AuditEvent(
        vendor_id=vendor_id,
        actor=actor[:120],
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        before=None if before is None else json.dumps(before, sort_keys=True, default=str),
        after=None if after is None else json.dumps(after, sort_keys=True, default=str),
        ip=ip[:64],
    )
    together = session.info.get(_TOGETHER)
    if together is not None:
        together.append(event)
    else:
        session.add(event)
    return event


@contextmanager
def recorded_together(session: Session) -> Iterator[None]:
    """The changes recorded inside are inserted in one statement at the end (in the order recorded, in the same
    transaction): for work that records several and needs none of their ids. Nothing is inserted if it raises."""
    if session.info.get(_TOGETHER) is not None:  # already inside: the outer one inserts them
        yield
        return
    together = session.info[_TOGETHER] = []
    try:
        yield
    finally:
        session.info.pop(_TOGETHER, None)
    if together:
        # The table's INSERT, not the ORM's bulk one (which splits the rows by the columns they leave NULL).
        session.execute(insert(AuditEvent.__table__), [event.model_dump(exclude={"id"}) for event in together])


def events_for(session: Session, *, vendor_id: int, subject_type: str, subject_id: int, limit: int = 50):
    return session.exec(
        select(AuditEvent)
        .where(AuditEvent.vendor_id == vendor_id, AuditEvent.subject_type == subject_type,
               AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    ).all()

