"""Events: each change to an object records one, queues it for the account's endpoints and marks the account dirty."""

import time

from .export import export, snapshot
from .ids import new_id

API_VERSION = "2026-10-28.endive"


def emit(call, event_type: str, obj: dict, previous: dict | None = None) -> dict:
    """Records `event_type` about `obj` (its state now) for the account the call acts on, and queues delivery."""
    account = call.account
    data = {"object": snapshot(export(account, obj))}
    if previous:
        data["previous_attributes"] = previous
    event = {
        "id": new_id("evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "data": data,
        "livemode": account.account.livemode,
        "pending_webhooks": 0,
        "request": {"id": call.request_id, "idempotency_key": call.idempotency_key},
        "type": event_type,
    }
    account.events[event["id"]] = event
    endpoints = [endpoint["id"] for endpoint in account.endpoints_for(event_type)]
    if endpoints:
        account.outstanding[event["id"]] = set(endpoints)
        event["pending_webhooks"] = len(endpoints)
        call.core.deliveries.enqueue(account, event["id"])
    call.core.touch(account)
    return event


def updated(call, event_type: str, obj: dict, before: dict, expand=None) -> dict:
    """An update's answer: the object as it is now; `event_type` is recorded if anything changed since `before`
    (its export before the update)."""
    previous = changes(before, export(call.account, obj))
    if previous:
        emit(call, event_type, obj, previous)
    return export(call.account, obj, expand)


def changes(before: dict, after: dict) -> dict:
    """Stripe's `previous_attributes`: the old value of each changed field; for metadata, only the changed keys."""
    previous = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if key == "metadata" and isinstance(old, dict) and isinstance(new, dict):
            previous[key] = {k: old.get(k) for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        else:
            previous[key] = snapshot({"v": old})["v"]
    return previous
