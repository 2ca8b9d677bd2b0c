"""A soak run: mixed traffic of every page, form, Web API method and Stripe webhook, first ramped to find the most the
mix reaches, then held at 80 % of that for a few minutes, against two gunicorn servers (gunicorn.conf.py, one sync
worker each) on PostgreSQL with Redis, with the production rate limits on. Reports the 5xx count (must be 0), the
429s apart from them, p50 and p99, each worker's memory (RSS) at the start and the end of the soak, and the keys the
portal made against the subscriptions made in Stripe (must be exactly one each, read in the database).

    .venv/bin/python bench/soak.py [--soak-seconds 180] [--step-seconds 8]

Not part of `make test`. Needs PostgreSQL at 127.0.0.1:5432 (user postgres; database `portal_soak` is dropped and
made again) and Redis at 127.0.0.1:6379. The mix: 45 % pages, every GET route of the vendor and portal sides in
`app.url_map` whose ids the seed names; 20 % forms, creating and editing customers, creating and extending keys;
30 % Web API calls, every method with a valid token, product and key; 5 % Stripe webhooks. The webhooks are real:
the vendor is connected to the Stripe stand-in (devtools/stripe_standin, run in this process; the portal's
STRIPE_API_BASE points at it), events are made in it and posted by the client threads, signed with the vendor's
signing secret as Stripe signs them (bench/stripe_events.py, shared with bench/webhook.py): a quarter new
subscriptions of existing customers (`customer.subscription.created`), a fifth new buyers through Checkout
(`checkout.session.completed`), 30 % renewals of subscriptions that have their key (`invoice.paid` of a
`subscription_cycle` invoice), 15 % re-deliveries of an event already done (answered `duplicate`), and 10 %
deliveries with a wrong signature (refused with 400); a renewal or a re-delivery with nothing yet to renew or
deliver again, or a new subscription once every customer has a Stripe customer, is a Checkout buyer instead. Every
signed event must get a 2xx; at the end each subscription made must have exactly one key.

Rate limits are on, in Redis, at their production values (none is raised). The client threads log in once each,
all before the ramp: 16 logins on each login form, within its 20 a minute from one address. The Web API calls take
the vendor's 16 tokens at random, as the calls of a vendor's several applications (each with its token) would mix,
so that no token comes near its 600 calls a minute (one count per token for all its methods); the report gives
the most calls a token sent in any minute, and the 429s apart from the 5xx. `RemoveCustomer` removes customers made
for it, not those the rest of the mix uses. The ramp's best step sets the rate; the soak holds 80 % of it with every
logged-in thread, paced. The app
runs with PORTAL_ENV=development so its session cookie is not `Secure` over plain HTTP; everything else is the
production configuration.

The load and the stand-in share this one process, on the same cores as the servers: the report gives the CPU
seconds of this process and of each worker during the soak, and how busy the whole machine was.
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
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["PORTAL_NO_DOTENV"] = "1"

import stripe_events  # noqa: E402 - bench/stripe_events.py, beside this file
from webhook import cpu_seconds, machine_busy  # noqa: E402 - bench/webhook.py, beside this file

from devtools.stripe_standin import StandIn  # noqa: E402
from tests.support.factories import CUSTOMER_PASSWORD, VENDOR_PASSWORD, Factory  # noqa: E402
from tests.support.gunicorn import Server  # noqa: E402
from tests.support.migrate import upgrade  # noqa: E402
from tests.support.pages import csrf_in  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432"
URL = f"{SERVER}/portal_soak"
REDIS_URL = "redis://127.0.0.1:6379/15"
SLUG = "soak.example"
IDS = ("customer_id", "key_id", "product_id", "account_id")
STEPS = (1, 2, 4, 8)  # client threads of the ramp's steps; the soak runs all THREADS, paced
LEAVING = 800  # customers made for the Web API's RemoveCustomer calls
THREADS = 2 * max(STEPS)  # client threads, logged in before the ramp; as many Web API tokens
SUBSCRIBERS = 250  # customers without a key, besides the 50 with one, who may subscribe through Stripe
WEBHOOKS = (("subscription.created", 0.25), ("checkout.session.completed", 0.20), ("invoice.paid", 0.30),
            ("redelivery", 0.15), ("bad signature", 0.10))


def fresh_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as admin:
        admin.execute('DROP DATABASE IF EXISTS "portal_soak" WITH (FORCE)')
        admin.execute('CREATE DATABASE "portal_soak"')
    upgrade(URL)


def config(stripe_base: str) -> dict:
    run = f"soak-{uuid.uuid4().hex[:8]}"
    return {"DATABASE_URL": URL, "SECRET_KEY": "soak-secret-" + "x" * 40, "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": 9, "REDIS_URL": REDIS_URL, "RATELIMIT_KEY_PREFIX": run,
            "JOBS_QUEUE_NAME": run, "RATELIMIT_ENABLED": True, "STRIPE_API_BASE": stripe_base,
            "JOBS_IMMEDIATE": False, "PORTAL_FAST_HASHING": "0", "VENDOR_REGISTRATION": True}


def soak_app(settings: dict):
    """The portal's app of the soak's settings, in this process (seeding and the final check)."""
    from portal import create_app

    return create_app(settings | {"TESTING": True})


def seed(settings: dict, stripe_key: str) -> dict:
    """A vendor with a product, 50 customers with a key each and SUBSCRIBERS without, a portal login, a Web API token
    per client thread, and Stripe connected to the stand-in's account `stripe_key` with a price linked."""
    from sqlmodel import Session

    from portal.api import tokens

    app = soak_app(settings)
    with Session(app.extensions["db_engine"], expire_on_commit=False) as session:
        make = Factory(app, session)
        vendor = make.vendor(slug=SLUG, name="Soak")
        product = make.product(vendor)
        customers = [make.customer(vendor, name=f"Customer {n}", email=f"c{n}@example.test") for n in range(50)]
        for n in range(SUBSCRIBERS):
            make.customer(vendor, name=f"Subscriber {n}", email=f"s{n}@example.test")
        leaving = [make.customer(vendor, name=f"Leaving {n}", email=f"l{n}@example.test").id for n in range(LEAVING)]
        keys = [make.key(product, customer=c, max_no_of_machines=1000) for c in customers]
        account = make.account(vendor, customers[0], email="c0@example.test")
        api_tokens = [tokens.create_token(session, vendor_id=vendor.id, name=f"soak {n}", actor="soak")[1]
                      for n in range(THREADS)]
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
                                       lambda m: str({**ids, "vendor_slug": SLUG}[m.group(1)]), rule.rule)))
        facts = {"owner": make.owner(vendor).email, "account": account.email, "tokens": api_tokens,
                 "product_id": product.id, "keys": [k.key for k in keys], "key_ids": [k.id for k in keys],
                 "customer_ids": [c.id for c in customers], "leaving_ids": leaving, "pages": sorted(pages),
                 "api": sorted(METHODS), "webhook_secret": "whsec_soak" + uuid.uuid4().hex}
    linked = stripe_events.connect_vendor(app, slug=SLUG, product_id=facts["product_id"], secret_key=stripe_key,
                                          webhook_secret=facts["webhook_secret"], customers=SUBSCRIBERS + 50,
                                          skip=facts["customer_ids"][0])
    app.extensions["db_engine"].dispose()
    return facts | {"price": linked["price"], "subscribers": linked["customers"]}


class Tokens:
    """The vendor's Web API tokens, each call taking one at random, as the calls of a vendor's several applications
    (each with its token) would mix; when each token's calls were sent."""

    def __init__(self, tokens: list[str]):
        self.tokens, self.sent = tokens, [[] for _ in tokens]

    def take(self, rng: random.Random) -> str:
        index = rng.randrange(len(self.tokens))
        self.sent[index].append(time.monotonic())
        return self.tokens[index]

    def busiest_minute(self) -> int:
        """The most calls one token sent within any 60 seconds."""
        return max(busiest_minute(sorted(sent)) for sent in self.sent)


class Browsers:
    """One client thread's: a vendor and a portal session logged in to the same server, and the Web API tokens."""

    def __init__(self, base: str, facts: dict, tokens: Tokens):
        self.base, self.vendor, self.portal = base, requests.Session(), requests.Session()
        login(self.vendor, base + "/vendor/login", facts["owner"], VENDOR_PASSWORD)
        login(self.portal, f"{base}/Portal/@{SLUG}/Login", facts["account"], CUSTOMER_PASSWORD)
        self.token = csrf_in(self.vendor.get(base + "/vendor/settings", timeout=30).text)
        self.tokens = tokens


def login(browser: requests.Session, url: str, email: str, password: str) -> None:
    token = csrf_in(browser.get(url, timeout=30).text)
    answer = browser.post(url, data={"csrf_token": token, "email": email, "password": password},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 303, (url, answer.status_code)


class StripeTraffic:
    """The webhook share of the mix. The stand-in has no endpoint registered, so it delivers nothing itself: each
    event is made in it (untimed), then posted to the portal by a client thread, signed as Stripe signs it (timed).
    Keeps every subscription made, for the check of one key each at the end."""

    def __init__(self, standin: StandIn, secret_key: str, facts: dict):
        self.standin, self.secret_key = standin, secret_key
        self.v1 = stripe_events.stripe_v1(standin.url, secret_key)
        self.price, self.secret = facts["price"], facts["webhook_secret"]
        self.subscribers = list(reversed(facts["subscribers"]))  # customers here with no Stripe customer yet
        self.lock = threading.Lock()
        self.made: list[str] = []  # every subscription made in the stand-in
        self.keyed: list[str] = []  # subscriptions with their key, that no thread is renewing now
        self.done: list[str] = []  # bodies of events the portal has done, for re-deliveries
        self.outcomes: Counter = Counter()  # (kind, status, the portal's outcome)

    def delivery(self, base: str, rng: random.Random) -> tuple[str, Callable[[], requests.Response]]:
        kind = rng.choices([kind for kind, _ in WEBHOOKS], [share for _, share in WEBHOOKS])[0]
        # A kind with nothing to act on yet (no key to renew, no event done) or any more (every customer here has a
        # Stripe customer) is a new buyer through Checkout instead.
        with self.lock:
            if (kind == "invoice.paid" and not self.keyed) or (kind == "redelivery" and not self.done) \
                    or (kind == "subscription.created" and not self.subscribers):
                kind = "checkout.session.completed"
            subscriber = self.subscribers.pop() if kind == "subscription.created" else None
            renewed = self.keyed.pop(rng.randrange(len(self.keyed))) if kind == "invoice.paid" else None
            again = rng.choice(self.done) if kind in ("redelivery", "bad signature") and self.done else None
        since = int(time.time()) - 1
        subscription = renewed
        if kind == "subscription.created":
            subscription = stripe_events.subscribe(self.v1, self.price, subscriber)
            body = self._event("customer.subscription.created", since, lambda thing: thing["id"] == subscription)
        elif kind == "checkout.session.completed":
            checkout = self.v1.checkout.sessions.create(params={
                "mode": "subscription", "customer_email": f"buyer.{uuid.uuid4().hex[:12]}@example.test",
                "line_items": [{"price": self.price, "quantity": 1}],
                "success_url": f"https://portal.soak.example/Portal/@{SLUG}/Subscriptions/Welcome",
                "cancel_url": f"https://portal.soak.example/Portal/@{SLUG}/Subscriptions"})
            self.standin.pay_checkout(self.secret_key, checkout.id)
            body = self._event(kind, since, lambda thing: thing["id"] == checkout.id)
            subscription = json.loads(body)["data"]["object"]["subscription"]
        elif kind == "invoice.paid":
            invoice = self.standin.advance_subscription(self.secret_key, renewed, "paid")["latest_invoice"]
            body = self._event(kind, since, lambda thing: thing["id"] == invoice)
        else:
            body = again or json.dumps({"id": f"evt_{uuid.uuid4().hex}", "type": "invoice.paid"})
        if kind in ("subscription.created", "checkout.session.completed"):
            with self.lock:
                self.made.append(subscription)
        headers = stripe_events.signed_headers("whsec_not_the_vendors" if kind == "bad signature" else self.secret,
                                               body)

        def send() -> requests.Response:
            answer = requests.post(f"{base}/stripe/webhook/{SLUG}", data=body.encode(), headers=headers, timeout=60)
            taken = 200 <= answer.status_code < 300
            outcome = answer.json().get("outcome", "?") if taken else "refused"
            with self.lock:
                self.outcomes[(kind, answer.status_code, outcome)] += 1
                if taken and outcome == "done":
                    self.done.append(body)
                if taken and subscription is not None:
                    self.keyed.append(subscription)
            return answer

        return f"webhook {kind}", send

    def _event(self, kind: str, since: int, match: Callable[[dict], bool]) -> str:
        """The body of the newest event of `kind` made since `since` whose object `match`es, as Stripe sends it."""
        answer = requests.get(f"{self.standin.url}/v1/events", timeout=30,
                              params={"type": kind, "created[gte]": since, "limit": 100},
                              headers={"Authorization": f"Bearer {self.secret_key}"})
        answer.raise_for_status()
        return next(json.dumps(event) for event in answer.json()["data"] if match(event["data"]["object"]))


def pick(browsers: Browsers, facts: dict, stripe: StripeTraffic,
         rng: random.Random) -> tuple[str, Callable[[], requests.Response]]:
    """One request of the mix, ready to send: its kind and the call. 45 % pages, 20 % forms, 30 % Web API calls,
    5 % webhooks (what a webhook's event needs in the stand-in is made here, before the call is timed)."""
    base, roll = browsers.base, rng.random()
    n = rng.randrange(len(facts["keys"]))
    if roll < 0.45:
        side, path = rng.choice(facts["pages"])
        browser = browsers.vendor if side == "vendor" else browsers.portal
        return "page", lambda: browser.get(base + path, timeout=60)
    if roll < 0.65:
        path, fields = rng.choice([
            ("/vendor/customers/new", {"name": f"Soak {uuid.uuid4().hex[:8]}"}),
            (f"/vendor/customers/{facts['customer_ids'][n]}/edit", {"name": f"Customer {n}", "notes": str(roll)}),
            ("/vendor/keys/new", {"product_id": facts["product_id"], "period": "30"}),
            (f"/vendor/keys/{facts['key_ids'][n]}/extend", {"days": "1"}),
        ])
        return "form", lambda: browsers.vendor.post(base + path, data={"csrf_token": browsers.token, **fields},
                                                    allow_redirects=False, timeout=60)
    if roll < 0.95:
        method = rng.choice(facts["api"])
        fields = {"token": browsers.tokens.take(rng), "ProductId": facts["product_id"], "Key": facts["keys"][n],
                  "MachineCode": f"m-{rng.randrange(20)}", "CustomerId": facts["customer_ids"][n], "Sign": "False"}
        if method == "customer/removecustomer":  # a customer made to be removed, not one the rest of the mix uses
            fields["CustomerId"] = facts["leaving_ids"].pop() if facts["leaving_ids"] else 0  # pop: one thread each
        return "api", lambda: requests.post(f"{base}/api/{method}", timeout=60, data=fields)
    return stripe.delivery(base, rng)


def drive(pool: list[Browsers], facts: dict, stripe: StripeTraffic, *, seconds: float, rate: float | None) -> dict:
    """One client thread for each of `pool` (logged in already) for `seconds`; at most `rate` requests/s in all
    when given."""
    results, failures, stop_at, lock = [], [], time.monotonic() + seconds, threading.Lock()
    interval = len(pool) / rate if rate else 0.0

    def client(n: int) -> None:
        rng, next_at = random.Random(n), time.monotonic()
        while time.monotonic() < stop_at:
            if interval:
                next_at += interval
                time.sleep(max(0.0, next_at - time.monotonic()))
            try:
                kind, send = pick(pool[n], facts, stripe, rng)
            except Exception as error:  # the stand-in's side of an event; not the portal's answer
                with lock:
                    failures.append(repr(error))
                continue
            started = time.monotonic()
            try:
                status = send().status_code
            except requests.RequestException:
                status = 0
            with lock:
                results.append((kind, status, time.monotonic() - started))

    workers = [threading.Thread(target=client, args=(n,)) for n in range(len(pool))]
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    latencies = sorted(latency for _kind, _status, latency in results)
    statuses = Counter(status for _kind, status, _latency in results)
    webhooks = Counter((kind.removeprefix("webhook "), status) for kind, status, _ in results
                       if kind.startswith("webhook "))
    return {"threads": len(pool), "requests": len(results), "per_second": round(len(results) / elapsed, 1),
            "p50_ms": round(latencies[len(latencies) // 2] * 1000, 1) if latencies else None,
            "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 1) if latencies else None,
            "server_errors": sum(count for status, count in statuses.items() if status >= 500 or status == 0),
            "rate_limited": statuses[429], "statuses": dict(sorted(statuses.items())),
            "webhooks": {f"{kind} {status}": count for (kind, status), count in sorted(webhooks.items())},
            "signed_not_2xx": sum(count for (kind, status), count in webhooks.items()
                                  if kind != "bad signature" and not 200 <= status < 300),
            "bad_signature_not_400": sum(count for (kind, status), count in webhooks.items()
                                         if kind == "bad signature" and status != 400),
            "stand_in_failures": failures}


def busiest_minute(moments: list[float]) -> int:
    """The most of `moments` (in order) within any 60 seconds."""
    most, first = 0, 0
    for last, moment in enumerate(moments):
        while moment - moments[first] >= 60:
            first += 1
        most = max(most, last - first + 1)
    return most


def rss_mb(servers: list[Server]) -> list[float]:
    return [round(kib / 1024, 1) for server in servers for kib in server.rss_kib().values()]


def sample_memory(servers: list[Server], memory: list, done: threading.Event) -> None:
    """Each worker's RSS into `memory` every 30 seconds until `done` is set."""
    while not done.wait(30):
        memory.append(rss_mb(servers))


def forget_run(settings: dict) -> None:
    """The run's rate-limit counts and its queue of jobs (no consumer runs here) out of Redis: every key naming the
    run's id (huey drops the dash of its queue's name)."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    names = list(client.scan_iter(match=f"*{settings['JOBS_QUEUE_NAME'].removeprefix('soak-')}*"))
    if names:
        client.delete(*names)


def hold(servers: list[Server], pool: list[Browsers], facts: dict, stripe: StripeTraffic, *, seconds: float,
         rate: float) -> dict:
    """The soak proper (`drive`), with each worker's RSS every 30 seconds and the CPU each side used."""
    memory, done = [rss_mb(servers)], threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(servers, memory, done))
    sampler.start()
    workers = [pid for server in servers for pid in server.worker_pids()]
    own, worker_cpu, busy = time.process_time(), [cpu_seconds(pid) for pid in workers], machine_busy()
    soak = drive(pool, facts, stripe, seconds=seconds, rate=rate)
    busy = [now - then for now, then in zip(machine_busy(), busy, strict=True)]
    cpu = {"load_and_standin_process_s": round(time.process_time() - own, 1),
           "workers_s": [round(cpu_seconds(pid) - then, 1) for pid, then in zip(workers, worker_cpu, strict=True)],
           "machine_busy_share": round(busy[0] / busy[1], 3)}
    done.set()
    sampler.join()
    memory.append(rss_mb(servers))
    return soak | {"cpu": cpu, "worker_rss_mb_every_30_s": memory}


def problems(ramp: list[dict], soak: dict, keys: dict, made: int) -> list[str]:
    """What makes the run fail: a 5xx in the soak, a signed event not taken, a bad signature not refused, a failure
    of the stand-in, or not one key per subscription made."""
    steps = [*ramp, soak]
    found = [f"{soak['server_errors']} server errors during the soak"] if soak["server_errors"] else []
    for step in steps:
        if step["signed_not_2xx"]:
            found.append(f"{step['signed_not_2xx']} signed events not answered 2xx ({step['threads']} threads)")
        if step["bad_signature_not_400"]:
            found.append(f"{step['bad_signature_not_400']} bad signatures not refused ({step['threads']} threads)")
        if step["stand_in_failures"]:
            found.append(f"the stand-in failed ({step['threads']} threads): {step['stand_in_failures'][:3]}")
    if not keys["one_key_each"] or keys["counts"]["vendor_records"] != made:
        found.append(f"not one key per subscription: {keys['counts']} for {made} made")
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--soak-seconds", type=float, default=180)
    parser.add_argument("--step-seconds", type=float, default=8)
    args = parser.parse_args()
    standin = StandIn(retries=0).start()
    settings = config(standin.url)
    try:
        stripe_key = standin.create_account("Soak Software").secret_key
        fresh_database()
        facts = seed(settings, stripe_key)
        print(f"{len(facts['pages'])} pages, 4 forms, {len(facts['api'])} API methods, {len(WEBHOOKS)} kinds of "
              f"webhook; {len(facts['subscribers'])} customers may subscribe", flush=True)
        servers = [Server(settings, workers=1) for _ in range(2)]
        try:
            for server in servers:
                server.start()
            tokens = Tokens(facts["tokens"])
            pool = [Browsers(servers[n % len(servers)].url, facts, tokens) for n in range(THREADS)]
            stripe = StripeTraffic(standin, stripe_key, facts)
            ramp = []
            for threads in STEPS:
                ramp.append(drive(pool[:threads], facts, stripe, seconds=args.step_seconds, rate=None))
                print("ramp", json.dumps(ramp[-1]), flush=True)
            best = max(ramp, key=lambda step: step["per_second"])
            target = round(best["per_second"] * 0.8, 1)
            # Every logged-in thread, paced: enough clients to hold the target when a request is slow.
            soak = hold(servers, pool, facts, stripe, seconds=args.soak_seconds, rate=target)
        finally:
            for server in servers:
                server.stop()
        app = soak_app(settings)
        keys = stripe_events.subscription_keys(app, slug=SLUG, subscriptions=stripe.made)
        app.extensions["db_engine"].dispose()
    finally:
        standin.stop()
        forget_run(settings)
    memory = soak.pop("worker_rss_mb_every_30_s")
    report = {"max_per_second": best["per_second"], "target_per_second": target,
              "reached_target": soak["per_second"] >= 0.95 * target, "soak": soak,
              "worker_rss_mb_start": memory[0], "worker_rss_mb_end": memory[-1], "worker_rss_mb_every_30_s": memory,
              "webhook_outcomes": {f"{kind} {status} {outcome}": count
                                   for (kind, status, outcome), count in sorted(stripe.outcomes.items())},
              "logins_per_login_form": len(pool), "api_calls_of_a_token_in_its_busiest_minute": tokens.busiest_minute(),
              "subscriptions_made": len(stripe.made), "keys": keys["counts"], "one_key_each": keys["one_key_each"]}
    print("soak", json.dumps(report), flush=True)
    found = problems(ramp, soak, keys, len(stripe.made))
    if found:
        raise SystemExit("; ".join(found) + f" (server logs: {servers[0].log})")


if __name__ == "__main__":
    main()
