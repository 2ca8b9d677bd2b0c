"""Two gunicorn servers of the production configuration on one PostgreSQL and one Redis: what must happen once
happens once, and a limit of N holds at N over both.

Also proved over two gunicorn servers (tests/support/processes.py), where the feature's own tests live:
the single-use association link (tests/signup/test_association_race.py), ten copies of a Stripe event
(tests/billing/test_concurrent_deliveries.py), a burst of events with a process killed midway
(tests/billing/test_burst_with_a_killed_process.py) and fifty activations against a machine limit
(tests/api/test_concurrent_activations.py).
"""

import time
from datetime import timedelta

import pytest
import requests
from sqlmodel import func, select

from portal.api import tokens
from portal.keys import batches
from portal.keys.services import KeySettings
from portal.models import KeyBatch, LicenseKey, utcnow
from tests.production.conftest import needs_postgresql, vendor_browser
from tests.support.gunicorn import servers
from tests.support.pages import csrf_in
from tests.support.processes import child_config, send_at_once

pytestmark = [pytest.mark.processes, needs_postgresql()]


def test_a_batch_resumed_from_both_at_once_makes_each_key_once(app, make, vendor, db, monkeypatch):
    product = make.product(vendor)
    monkeypatch.setattr(batches, "make_batch_keys", lambda batch_id: None)  # started, then its worker "died"
    batch = batches.start_batch(db, product=product, settings=KeySettings(period=30), count=1200, actor="test")
    batch.heartbeat_at = utcnow() - timedelta(minutes=5)
    db.commit()
    monkeypatch.undo()
    path = f"/vendor/keys/batches/{batch.id}/resume"

    with servers(child_config(app)) as started:
        posts = []
        for server in started:
            browser = vendor_browser(server.url, make.owner(vendor).email)
            token = csrf_in(browser.get(f"{server.url}/vendor/keys/batches/{batch.id}", timeout=30).text)
            posts.append((server.url, [{"path": path, "data": {"csrf_token": token}, "session": browser}]))
        answers = send_at_once(posts)

    assert [status for status, _body in answers] == [303, 303]
    assert db.get(KeyBatch, batch.id).status == "done"
    total, keys, numbers = db.exec(select(func.count(), func.count(func.distinct(LicenseKey.key)),
                                          func.count(func.distinct(LicenseKey.key_number)))
                                   .where(LicenseKey.product_id == product.id)).one()
    assert (total, keys, numbers) == (1200, 1200, 1200)


def _wait_for_a_fresh_minute() -> None:
    """Flask-Limiter's windows are calendar minutes: a burst must not straddle two."""
    if time.time() % 60 > 45:
        time.sleep(61 - time.time() % 60)


def test_a_limit_of_twenty_a_minute_holds_at_twenty_over_both(app, make, vendor, shared_redis):
    """The vendor login allows 20 POSTs a minute from one address: 40 at once over both servers, 20 get in."""
    with servers(child_config(app, RATELIMIT_ENABLED=True, **shared_redis)) as started:
        posts = []
        for server in started:
            browser = requests.Session()
            token = csrf_in(browser.get(server.url + "/vendor/login", timeout=30).text)
            # Each a different e-mail, so the per-login throttle of wrong passwords stays out of the count.
            posts.append((server.url, [{"path": "/vendor/login", "session": browser, "data": {
                "csrf_token": token, "email": f"nobody-{server.port}-{n}@example.test", "password": "wrong"}}
                for n in range(20)]))
        _wait_for_a_fresh_minute()
        statuses = sorted(status for status, _body in send_at_once(posts))

    assert statuses == [422] * 20 + [429] * 20


def test_a_web_api_limit_of_twenty_a_minute_holds_at_twenty_over_both(app, vendor, db, shared_redis):
    """One access token, 40 calls at once over both servers, a limit of 20 a minute: 20 answered, 20 refused in
    JSON with the time to wait."""
    _row, token = tokens.create_token(db, vendor_id=vendor.id, name="limited", actor="test")
    db.commit()
    config = child_config(app, RATELIMIT_ENABLED=True, API_RATE_LIMIT="20 per minute", **shared_redis)
    with servers(config) as started:
        posts = [(server.url, [{"path": "/api/product/GetProducts", "data": {"token": token}}] * 20)
                 for server in started]
        _wait_for_a_fresh_minute()
        answers = send_at_once(posts)

    assert sorted(status for status, _body in answers) == [200] * 20 + [429] * 20
    assert all(body["result"] == (status == 429) for status, body in answers)
