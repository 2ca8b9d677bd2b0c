"""Two gunicorn servers complete joins through one single-use association link at the same moment: exactly one
account joins."""

import pytest
import requests
from sqlmodel import func, select

from portal.models import PortalAccount
from tests.support.gunicorn import servers
from tests.support.pages import csrf_in, post_form
from tests.support.processes import child_config, send_at_once

pytestmark = pytest.mark.processes


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
    with servers(child_config(app)) as started:
        posts = []
        for server, path in zip(started, paths, strict=True):
            browser = requests.Session()
            token = csrf_in(browser.get(server.url + path, timeout=30).text)
            posts.append((server.url, [{"path": path, "data": {"csrf_token": token, "password": "a-long-password"},
                                         "session": browser}]))
        statuses = sorted(status for status, _body in send_at_once(posts))

    assert statuses == [303, 409]  # the other is told the customer has its one login now
    joined = db.exec(select(func.count()).select_from(PortalAccount)
                     .where(PortalAccount.customer_id == customer.id)).one()
    assert joined == 1
