"""A soak run: mixed traffic of every page, form, Web API method and webhook, first ramped to find the most the mix
reaches, then held at 80 % of that for a few minutes, against two gunicorn servers (gunicorn.conf.py, one sync
worker each) on PostgreSQL with Redis. Reports the 5xx count (must be 0), p50 and p99, and each worker's memory
(RSS) at the start and the end of the soak.

    .venv/bin/python bench/soak.py [--soak-seconds 180] [--step-seconds 8]

Not part of `make test`. Needs PostgreSQL at 127.0.0.1:5432 (user postgres; database `portal_soak` is dropped and
made again) and Redis at 127.0.0.1:6379. The mix's pages are every GET route of the vendor and portal sides in
`app.url_map` whose ids the seed names; its forms create and edit customers, create and extend keys; its API calls
are every Web API method with a valid token, product and key; its webhooks are deliveries with a bad signature (the
signed path, with the Stripe stand-in, is measured in bench/webhook.py). Rate limits are off (the mix would trip
the login's), and the app runs with PORTAL_ENV=development so its session cookie is not `Secure` over plain HTTP;
everything else is the production configuration.
"""

import argparse
import json
import os
import random
import re
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PORTAL_NO_DOTENV"] = "1"

from tests.support.factories import CUSTOMER_PASSWORD, VENDOR_PASSWORD, Factory  # noqa: E402
from tests.support.gunicorn import Server  # noqa: E402
from tests.support.migrate import upgrade  # noqa: E402
from tests.support.pages import csrf_in  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
URL = f"{SERVER}/portal_soak"
IDS = ("customer_id", "key_id", "product_id", "account_id")


def fresh_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute('DROP DATABASE IF EXISTS "portal_soak" WITH (FORCE)')
        admin.execute('CREATE DATABASE "portal_soak"')
    upgrade(URL)


def config() -> dict:
    run = f"soak-{uuid.uuid4().hex[:8]}"
    return {"DATABASE_URL": URL, "SECRET_KEY": "soak-secret-" + "x" * 40, "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 9, "REDIS_URL": "redis://127.0.0.1:6379/15",
            "RATELIMIT_KEY_PREFIX": run, "JOBS_QUEUE_NAME": run, "RATELIMIT_ENABLED": False,
            "JOBS_IMMEDIATE": False, "PORTAL_FAST_HASHING": "0", "VENDOR_REGISTRATION": True}


def seed(settings: dict) -> dict:
    """A vendor with a product, 50 customers with a key each, a portal login, and a Web API token."""
    from sqlmodel import Session

    from portal import create_app
    from portal.api import tokens

    app = create_app(settings | {"TESTING": True})
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        make = Factory(app, session)
        vendor = make.vendor(slug="soak.example", name="Soak")
        product = make.product(vendor)
        customers = [make.customer(vendor, name=f"Customer {n}", email=f"c{n}@example.test") for n in range(50)]
        keys = [make.key(product, customer=c, max_no_of_machines=1000) for c in customers]
        account = make.account(vendor, customers[0], email="c0@example.test")
        _token, token = tokens.create_token(session, vendor_id=vendor.id, name="soak", actor="soak")
        session.commit()
        from portal.api.calls import METHODS

        pages = []
        ids = {"customer_id": customers[0].id, "key_id": keys[0].id, "product_id": product.id,
               "account_id": account.id}
        for rule in app.url_map.iter_rules():
            side = "portal" if rule.rule.startswith("/Portal/") else "vendor" if rule.rule.startswith("/vendor/") \
                else None
            if side is None or "GET" not in rule.methods or not rule.arguments - {"vendor_slug"} <= set(IDS):
                continue
            if rule.endpoint in ("products.export", "accounts.reset_password", "accounts.verify_email",
                                 "signup.confirm", "signup.associate", "licenses.reveal"):
                continue  # a streamed export of every key, and pages that need a token in the link
            pages.append((side, re.sub(r"<(?:[^:<>]+:)?([^<>]+)>",
                                       lambda m: str({**ids, "vendor_slug": "soak.example"}[m.group(1)]), rule.rule)))
        facts = {"owner": make.owner(vendor).email, "account": account.email, "token": token,
                 "product_id": product.id, "keys": [k.key for k in keys], "key_ids": [k.id for k in keys],
                 "customer_ids": [c.id for c in customers], "pages": sorted(pages),
                 "api": sorted(METHODS)}
    app.extensions["db_engine"].dispose()
    return facts


class Browsers:
    """Per thread: a vendor and a portal session logged in to the same server."""

    def __init__(self, base: str, facts: dict):
        self.base, self.vendor, self.portal = base, requests.Session(), requests.Session()
        login(self.vendor, base + "/vendor/login", facts["owner"], VENDOR_PASSWORD)
        login(self.portal, base + "/Portal/@soak.example/Login", facts["account"], CUSTOMER_PASSWORD)
        self.token = csrf_in(self.vendor.get(base + "/vendor/settings", timeout=30).text)


def login(browser: requests.Session, url: str, email: str, password: str) -> None:
    token = csrf_in(browser.get(url, timeout=30).text)
    answer = browser.post(url, data={"csrf_token": token, "email": email, "password": password},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 303, (url, answer.status_code)


def one_request(browsers: Browsers, facts: dict, rng: random.Random) -> requests.Response:
    """One request of the mix: 45 % pages, 20 % forms, 30 % Web API calls, 5 % webhooks."""
    base, roll = browsers.base, rng.random()
    n = rng.randrange(len(facts["keys"]))
    if roll < 0.45:
        side, path = rng.choice(facts["pages"])
        return (browsers.vendor if side == "vendor" else browsers.portal).get(base + path, timeout=60)
    if roll < 0.65:
        form = rng.choice([
            ("/vendor/customers/new", {"name": f"Soak {uuid.uuid4().hex[:8]}"}),
            (f"/vendor/customers/{facts['customer_ids'][n]}/edit", {"name": f"Customer {n}", "notes": str(roll)}),
            ("/vendor/keys/new", {"product_id": facts["product_id"], "period": "30"}),
            (f"/vendor/keys/{facts['key_ids'][n]}/extend", {"days": "1"}),
        ])
        return browsers.vendor.post(base + form[0], data={"csrf_token": browsers.token, **form[1]},
                                    allow_redirects=False, timeout=60)
    if roll < 0.95:
        method = rng.choice(facts["api"])
        return requests.post(f"{base}/api/{method}", timeout=60, data={
            "token": facts["token"], "ProductId": facts["product_id"], "Key": facts["keys"][n],
            "MachineCode": f"m-{rng.randrange(20)}", "CustomerId": facts["customer_ids"][n], "Sign": "False"})
    body = json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "invoice.paid"}).encode()
    return requests.post(f"{base}/stripe/webhook/soak.example", data=body, timeout=60,
                         headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"})


def drive(servers: list[Server], facts: dict, *, threads: int, seconds: float, rate: float | None) -> dict:
    """`threads` clients over the servers for `seconds`; at most `rate` requests/s in all when given."""
    results, stop_at, lock = [], time.monotonic() + seconds, threading.Lock()
    interval = threads / rate if rate else 0.0

    def client(n: int) -> None:
        browsers, rng = Browsers(servers[n % len(servers)].url, facts), random.Random(n)
        next_at = time.monotonic()
        while time.monotonic() < stop_at:
            if interval:
                next_at += interval
                time.sleep(max(0.0, next_at - time.monotonic()))
            started = time.monotonic()
            try:
                status = one_request(browsers, facts, rng).status_code
            except requests.RequestException:
                status = 0
            with lock:
                results.append((status, time.monotonic() - started))

    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    latencies = sorted(latency for _status, latency in results)
    statuses = {}
    for status, _latency in results:
        statuses[status] = statuses.get(status, 0) + 1
    return {"threads": threads, "requests": len(results), "per_second": round(len(results) / elapsed, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
            "server_errors": sum(count for status, count in statuses.items() if status >= 500 or status == 0),
            "statuses": dict(sorted(statuses.items()))}


def rss_mb(servers: list[Server]) -> list[float]:
    return [round(kib / 1024, 1) for server in servers for kib in server.rss_kib().values()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--soak-seconds", type=float, default=180)
    parser.add_argument("--step-seconds", type=float, default=8)
    args = parser.parse_args()
    settings = config()
    fresh_database()
    facts = seed(settings)
    print(f"{len(facts['pages'])} pages, 4 forms, {len(facts['api'])} API methods, webhooks", flush=True)
    servers = [Server(settings, workers=1) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        ramp = [drive(servers, facts, threads=threads, seconds=args.step_seconds, rate=None)
                for threads in (1, 2, 4, 8)]
        for step in ramp:
            print("ramp", json.dumps(step), flush=True)
        best = max(ramp, key=lambda step: step["per_second"])
        target = round(best["per_second"] * 0.8, 1)
        memory_start = rss_mb(servers)
        soak = drive(servers, facts, threads=best["threads"] * 2, seconds=args.soak_seconds, rate=target)
        memory_end = rss_mb(servers)
        report = {"max_per_second": best["per_second"], "target_per_second": target, "soak": soak,
                  "worker_rss_mb_start": memory_start, "worker_rss_mb_end": memory_end}
        print("soak", json.dumps(report), flush=True)
        if soak["server_errors"]:
            raise SystemExit(f"{soak['server_errors']} server errors during the soak: see {servers[0].log}")
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
