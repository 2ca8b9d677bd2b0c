"""PostgreSQL restarted under traffic (a throwaway cluster this test makes itself, never the shared server): the
requests meanwhile fail cleanly with a 5xx page and write nothing, both gunicorn servers recover without a restart
(pool_pre_ping in portal/db.py), and the job consumer carries on."""

import threading
import time

import pytest
import requests
from sqlmodel import Session, select

from portal import create_app
from portal.models import Customer, KeyBatch, LicenseKey
from tests.production.conftest import needs_postgresql, vendor_browser
from tests.support import cluster as clusters
from tests.support.factories import Factory
from tests.support.gunicorn import Consumer, servers
from tests.support.migrate import upgrade
from tests.support.pages import csrf_in
from tests.support.processes import child_config

pytestmark = [pytest.mark.processes, pytest.mark.long, needs_postgresql(),
              pytest.mark.skipif(not clusters.can_make_one(), reason="needs PostgreSQL's binaries and root")]


@pytest.fixture
def throwaway(app):
    cluster = clusters.Cluster().create()
    try:
        upgrade(cluster.url)
        config = child_config(app, DATABASE_URL=cluster.url)
        own = create_app(config)
        with Session(own.extensions["db_engine"], expire_on_commit=False) as session:
            make = Factory(own, session)
            vendor = make.vendor(slug="restart.test", name="Restart")
            product = make.product(vendor)
            email, product_id = make.owner(vendor).email, product.id
        yield cluster, config, email, product_id, own.extensions["db_engine"]
        own.extensions["db_engine"].dispose()
    finally:
        cluster.destroy()


class Traffic:
    """Each browser, in a thread of its own, creates customers one after another and opens the dashboard."""

    def __init__(self, browsers: list[tuple[str, requests.Session]]):
        self.browsers, self.stop, self.created, self.answers = browsers, threading.Event(), [], []
        self.threads = [threading.Thread(target=self._run, args=(n, url, browser))
                        for n, (url, browser) in enumerate(browsers)]

    def _run(self, n: int, url: str, browser: requests.Session) -> None:
        token = csrf_in(browser.get(url + "/vendor/customers/new", timeout=30).text)
        sent = 0
        while not self.stop.is_set():
            sent += 1
            name = f"Customer {n}-{sent}"
            for method, path, data in (("post", "/vendor/customers/new", {"csrf_token": token, "name": name}),
                                       ("get", "/vendor/", None)):
                try:
                    response = browser.request(method, url + path, data=data, allow_redirects=False, timeout=30)
                except requests.ConnectionError:
                    self.answers.append((time.monotonic(), url, method, 0, ""))
                    continue
                self.answers.append((time.monotonic(), url, method, response.status_code, response.text))
                if method == "post" and response.status_code == 303:
                    self.created.append(name)
            time.sleep(0.02)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def test_a_database_restart_under_traffic_fails_cleanly_and_recovers(throwaway, shared_redis):
    cluster, config, email, product_id, engine = throwaway
    config = config | shared_redis | {"JOBS_IMMEDIATE": False, "RATELIMIT_ENABLED": False}
    consumer = Consumer(config).start()
    try:
        with servers(config) as started:
            pids = [server.worker_pids() for server in started]
            browsers = [(server.url, vendor_browser(server.url, email)) for server in started]
            with Traffic(browsers) as traffic:
                time.sleep(1)
                cluster.stop("fast")
                down_at = time.monotonic()
                time.sleep(2)
                up_at = time.monotonic()
                cluster.start()
                time.sleep(3)
            assert [server.worker_pids() for server in started] == pids, "no worker was restarted"
            # The queue carries on: a bulk batch started now is made by the consumer that lived through it.
            browser = browsers[0][1]
            token = csrf_in(browser.get(started[0].url + "/vendor/keys/bulk", timeout=30).text)
            made = browser.post(started[0].url + "/vendor/keys/bulk", allow_redirects=False, timeout=30, data={
                "csrf_token": token, "product_id": product_id, "count": "25", "period": "30"})
            assert made.status_code == 303, made.text
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not _batch_done(engine):
                time.sleep(0.1)
    finally:
        consumer.stop()

    during = [a for a in traffic.answers if down_at < a[0] < up_at]
    failed = [a for a in during if a[3] >= 500]
    assert failed, "the outage was seen"
    assert all(a[3] in (200, 303, 503) for a in traffic.answers), {a[3] for a in traffic.answers}
    assert all("Try again in a moment" in a[4] and "psycopg" not in a[4] for a in failed)
    for url, _browser in browsers:  # each server answered again after the restart, without being restarted
        last = [a for a in traffic.answers if a[1] == url][-4:]
        assert [a[3] for a in last] in ([303, 200] * 2, [200, 303, 200, 303]), last
    with Session(engine) as db:
        names = set(db.exec(select(Customer.name)).all())
        assert names == set(traffic.created), "a customer exists exactly when its creation was answered 303"
        assert _batch_done(engine) and len(db.exec(select(LicenseKey.id)).all()) == 25


def _batch_done(engine) -> bool:
    with Session(engine) as db:
        batch = db.exec(select(KeyBatch)).first()
        return batch is not None and batch.status == "done"
