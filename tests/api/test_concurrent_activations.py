"""Fifty simultaneous activations of a key limited to five machines, over two app processes on PostgreSQL."""

import multiprocessing
import threading

import pytest
from sqlmodel import select

from portal.models import ActivatedMachine
from tests.conftest import TEST_DATABASE
from tests.support.processes import child_config

pytestmark = [pytest.mark.processes,
              pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")]


def _activate_all(config: dict, form: dict, mids: list[str], barrier, results) -> None:
    from portal import create_app

    app = create_app(config)
    answers = []

    def activate(mid: str) -> None:
        response = app.test_client().post("/api/key/Activate", data=form | {"MachineCode": mid})
        answers.append((response.status_code, response.get_json()["result"]))

    threads = [threading.Thread(target=activate, args=(mid,)) for mid in mids]
    barrier.wait(timeout=60)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    results.put(answers)


def _run(app, form: dict, mids: list[str]) -> list:
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    config = child_config(app, RATELIMIT_ENABLED=False)
    processes = [context.Process(target=_activate_all, args=(config, form, mids[n::2], barrier, results))
                 for n in range(2)]
    for process in processes:
        process.start()
    answers = [answer for _ in processes for answer in results.get(timeout=120)]
    for process in processes:
        process.join(timeout=30)
    return answers


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
