"""Two processes complete joins through one single-use association link at the same moment: exactly one account
joins."""

import multiprocessing

import pytest
from sqlmodel import func, select

from portal.models import PortalAccount
from tests.support.pages import post_form
from tests.support.processes import child_config

pytestmark = pytest.mark.processes


def _confirm(config: dict, path: str, barrier, results) -> None:
    from portal import create_app
    from tests.support.pages import csrf_token

    client = create_app(config).test_client()
    token = csrf_token(client, path)
    barrier.wait(timeout=30)
    results.put(client.post(path, data={"csrf_token": token}).status_code)


@pytest.mark.parametrize("round_", range(2))
def test_two_processes_join_exactly_one_account(app, make, vendor, db, mailbox, round_):
    customer = make.customer(vendor, association=True)
    link = make.association_link(vendor, customer)
    paths = []
    for n in range(2):
        email = f"p{n}@example.test"
        post_form(app.test_client(), link, {"which": "new", "new-name": email, "new-email": email,
                                            "new-password": "a-long-password"})
        paths.append(mailbox.last_link(email, "/Confirm?token=").split("localhost", 1)[1])
    config = child_config(app)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    processes = [context.Process(target=_confirm, args=(config, path, barrier, results)) for path in paths]
    for process in processes:
        process.start()
    statuses = sorted(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=30)

    assert statuses == [303, 404]
    joined = db.exec(select(func.count()).select_from(PortalAccount)
                     .where(PortalAccount.customer_id == customer.id)).one()
    assert joined == 1
