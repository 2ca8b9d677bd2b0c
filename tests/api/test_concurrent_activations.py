"""Fifty simultaneous activations of a key limited to five machines, over two app processes on PostgreSQL."""

import pytest
from sqlmodel import select

from portal.models import ActivatedMachine
from tests.conftest import TEST_DATABASE
from tests.support.processes import child_config, post_at_once

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")]


def _run(app, form: dict, mids: list[str]) -> list:
    posts = [{"path": "/api/key/Activate", "data": form | {"MachineCode": mid}} for mid in mids]
    answers = post_at_once(child_config(app, RATELIMIT_ENABLED=False), [posts[0::2], posts[1::2]])
    return [(status, body["result"]) for status, body in answers]


def test_fifty_at_once_leave_exactly_five_and_a_second_run_adds_none(app, api, make, vendor, product, db):
    key = make.key(product, max_no_of_machines=5)
    form = {"token": api.token(vendor, "activation"), "ProductId": product.id, "Key": key.key, "Sign": "False"}
    mids = [f"machine-{n}" for n in range(50)]

    first = _run(app, form, mids)
    assert sorted(first).count((200, 0)) == 5 and len(first) == 50 and {s for s, _ in first} <= {200, 400}
    active = {m.mid for m in db.exec(select(ActivatedMachine).where(ActivatedMachine.key_id == key.id))}
    assert len(active) == 5

    second = _run(app, form, mids)
    assert sorted(second).count((200, 0)) == 5
    assert {m.mid for m in db.exec(select(ActivatedMachine).where(ActivatedMachine.key_id == key.id))} == active
