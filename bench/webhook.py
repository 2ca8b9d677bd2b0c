"""The `webhook` path of `make bench`: signed Stripe events at the portal, beside the Stripe stand-in's own rate.

Used by bench/run.py after a database's page paths; bench/README.md explains the figures. The steps that need the
portal's code (connecting the vendor, checking the keys) and the two load generators run as subprocesses of this
file, so that the code under test is the worktree's and the load is not the run's own process:

    python bench/webhook.py connect …   # in the portal's environment: connect Stripe, link a price, pick customers
    python bench/webhook.py verify …    # in the portal's environment: the key of each subscription
    python bench/webhook.py calls …     # the portal's Stripe calls per event, straight to the stand-in with the SDK
    python bench/webhook.py fire …      # each event once, signed, at the portal's webhook
"""

import argparse
import concurrent.futures
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from servers import portal_environment, stop_process
from stripe_events import connect_vendor, make_subscriptions, signed_headers, subscription_keys

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
EVENTS = {"full": 2000, "small": 400}  # subscriptions (and events) at the portal; as many again for the stand-in
TARGET = 0.5  # events_per_s ≥ 0.5 × standin_calls_per_s
EXPAND = ["customer", "items.data.price.product"]  # what the portal's Gateway.subscription expands


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used (from /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class StandInProcess:
    """The Stripe stand-in as a process of its own on a free loopback port, with one fresh account, no endpoint."""

    def __init__(self, port: int, name: str):
        self.secret_key = "sk_test_bench" + secrets.token_hex(12)
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(OUT / f"{name}-standin.log", "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "devtools.stripe_standin", "--port", str(port), "--retries", "0",
             "--account", f"{self.secret_key}:Bench Software"],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.get("/v1/account")
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the Stripe stand-in did not start: see {self.log.name}") from None
                time.sleep(0.2)

    def get(self, path: str) -> dict:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {self.secret_key}"})
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - loopback
            return json.load(answer)

    def listed(self, path: str) -> list[dict]:
        """Every object of a list endpoint, page by page."""
        found, after = [], ""
        while True:
            page = self.get(f"{path}{'&' if '?' in path else '?'}limit=100{after}")
            found += page["data"]
            if not page["has_more"]:
                return found
            after = "&starting_after=" + page["data"][-1]["id"]

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        stop_process(self.process, self.log)


def helper(command: str, *args: str, env: dict | None = None, stdin: str | None = None) -> dict:
    """Run a step of this file in a process of its own; it prints one JSON object."""
    environment = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    completed = subprocess.run(  # noqa: S603 - this file, fixed arguments
        [sys.executable, str(Path(__file__)), command, *args], cwd=ROOT, env=environment, input=stdin,
        capture_output=True, text=True, timeout=1800)
    if completed.returncode != 0:
        raise SystemExit(f"bench/webhook.py {command} failed:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def in_process_events(database: str, facts: dict, standin: StandInProcess, subscriptions: int):
    """For the in-process tools (bench/profile_webhook.py, bench/instructions_webhook.py): the portal's environment
    with the stand-in as Stripe (set in this process too), the bench vendor connected with a new signing secret, and
    `subscriptions` new subscriptions; returns (env, secret, the subscriptions, their created events' bodies, in the
    same order)."""
    env = portal_environment(database, facts, "disabled") | {"STRIPE_API_BASE": standin.url}
    os.environ.update(env)
    secret = "whsec_bench" + secrets.token_hex(16)
    linked = helper("connect", "--slug", facts["vendor_slug"], "--product", str(facts["product_id"]),
                    "--secret-key", standin.secret_key, "--webhook-secret", secret,
                    "--customers", str(subscriptions), "--skip", str(facts["dashboard_customer_id"]))
    made = make_subscriptions(standin.url, standin.secret_key, linked["price"], linked["customers"])
    bodies = {event["data"]["object"]["id"]: json.dumps(event)
              for event in standin.listed("/v1/events?type=customer.subscription.created")}
    return env, secret, made, [bodies[subscription] for subscription in made]


def run_path(database: str, facts: dict, standin: StandInProcess, portal, portal_env: dict,
             connections: int, workers_and_threads: tuple[int, int]) -> dict:
    """Set up, measure and check the webhook path for one database; returns its figures for latest.json."""
    count = EVENTS[facts["size"]]
    started = time.perf_counter()
    webhook_secret = "whsec_bench" + secrets.token_hex(16)
    env = portal_env
    linked = helper("connect", "--slug", facts["vendor_slug"], "--product", str(facts["product_id"]),
                    "--secret-key", standin.secret_key, "--webhook-secret", webhook_secret,
                    "--customers", str(3 * count), "--skip", str(facts["dashboard_customer_id"]), env=env)
    if len(linked["customers"]) < 3 * count:
        raise SystemExit(f"only {len(linked['customers'])} bench customers have no Stripe customer yet")
    made = time.perf_counter()
    for_portal = make_subscriptions(standin.url, standin.secret_key, linked["price"], linked["customers"][:count])
    for_standin = make_subscriptions(standin.url, standin.secret_key, linked["price"],
                                     linked["customers"][count:])  # 2 × count
    wanted = set(for_portal)
    events = [event for event in standin.listed("/v1/events?type=customer.subscription.created")
              if event["data"]["object"]["id"] in wanted]
    if len(events) != count:
        raise SystemExit(f"the stand-in listed {len(events)} customer.subscription.created events, not {count}")
    prepared = time.perf_counter()

    # The reference: the same calls through the portal's own Gateway, from as many processes and threads as the
    # portal's server has (each of its workers handles one event at a time per thread). The reference used until
    # 2026-12-02 (the SDK's service methods from one process of `connections` threads) is measured beside it.
    mirror = {"client": "gateway", "processes": workers_and_threads[0], "threads": workers_and_threads[1]}
    legacy = {"client": "sdk", "processes": 1, "threads": connections}
    part = count // 2
    before = reference(standin, for_standin[:part], **mirror)
    before_legacy = reference(standin, for_standin[part:2 * part], **legacy)
    workers = portal.worker_pids()
    worker_cpu, standin_cpu, busy = (sum(cpu_seconds(pid) for pid in workers), standin.cpu_seconds(),
                                     machine_busy())
    events_file = OUT / f"webhook-events-{database}.json"
    events_file.write_text(json.dumps([json.dumps(event) for event in events]))
    fired = helper("fire", "--url", f"{portal.base}/stripe/webhook/{facts['vendor_slug']}",
                   "--secret", webhook_secret, "--events", str(events_file), "--concurrency", str(connections))
    worker_cpu = sum(cpu_seconds(pid) for pid in workers) - worker_cpu
    standin_cpu = standin.cpu_seconds() - standin_cpu
    busy = [now - then for now, then in zip(machine_busy(), busy, strict=True)]
    after_legacy = reference(standin, for_standin[2 * part:3 * part], **legacy)
    after = reference(standin, for_standin[3 * part:], **mirror)
    measured = time.perf_counter()

    keys = helper("verify", "--slug", facts["vendor_slug"], env=env, stdin="\n".join(for_portal))
    shown = {sub["id"]: sub["metadata"] for sub in standin.listed("/v1/subscriptions?status=all")
             if sub["id"] in wanted}
    written = sum(1 for sub, key in keys["key_numbers"].items()
                  if shown.get(sub, {}).get("skm_key_id") == str(key) and "skm_temp_var" not in shown[sub])
    standin_rate = (before["pairs_per_s"] + after["pairs_per_s"]) / 2
    legacy_rate = (before_legacy["pairs_per_s"] + after_legacy["pairs_per_s"]) / 2
    ratio = fired["events_per_s"] / standin_rate
    all_2xx = fired["status"] == {"200": count} and fired["outcomes"] == {"done": count}
    return {
        "events": count, "events_per_s": fired["events_per_s"], "standin_calls_per_s": round(standin_rate, 1),
        "ratio": round(ratio, 3), "target": TARGET, "met": ratio >= TARGET and all_2xx and keys["one_key_each"]
        and written == count,
        "one_key_each": keys["one_key_each"], "written_back": written, "all_2xx": all_2xx,
        "statuses": fired["status"], "outcomes": fired["outcomes"],
        "seconds": fired["seconds"], "p50_ms": fired["p50_ms"], "p99_ms": fired["p99_ms"],
        "standin_rounds": [before, after],
        "standin_reference": f"{mirror['client']} calls, {mirror['processes']} processes x {mirror['threads']} "
                             "threads (as the portal's server)",
        "legacy_standin_calls_per_s": round(legacy_rate, 1),
        "legacy_ratio": round(fired["events_per_s"] / legacy_rate, 3),
        "legacy_standin_rounds": [before_legacy, after_legacy],
        "cpu_ms_per_event": {"portal_workers": round(worker_cpu / count * 1000, 2),
                             "standin": round(standin_cpu / count * 1000, 2),
                             "load_process": round(fired["client_cpu_s"] / count * 1000, 2),
                             "machine_busy_share": round(busy[0] / busy[1], 3) if busy[1] else None},
        "keys": keys["counts"],
        "step_seconds": {"connect": round(made - started, 1), "subscriptions_and_events": round(prepared - made, 1),
                         "measure": round(measured - prepared, 1),
                         "verify": round(time.perf_counter() - measured, 1),
                         "total": round(time.perf_counter() - started, 1)},
    }


def print_row(result: dict) -> None:
    if not result:
        return
    verdict = "met " if result["met"] else "MISSED"
    checks = f"{result['one_key_each'] and 'one key each' or 'NOT ONE KEY EACH'}, " \
             f"{result['written_back']}/{result['events']} written back, " \
             f"{'all 2xx' if result['all_2xx'] else 'NOT ALL 2xx: ' + json.dumps(result['statuses'])}"
    print(f"{'webhook':<24} {result['events_per_s']:>9.1f} {result['p50_ms']:>8.2f} {result['p99_ms']:>8.2f} "
          f"{result['ratio']:>7.3f}  {verdict} (≥ {result['target']:.2f} of the stand-in's "
          f"{result['standin_calls_per_s']:.1f} call pairs/s; {checks}; {result['step_seconds']['total']} s; the "
          f"reference before 2026-12-02: {result['legacy_standin_calls_per_s']:.1f}/s, "
          f"ratio {result['legacy_ratio']:.3f})",
          flush=True)


# --- The helper processes ---------------------------------------------------------------------------------------


def _app():
    from portal import create_app

    return create_app()


def connect(args) -> dict:
    """The bench vendor connected to the stand-in, a price linked, bench customers picked (`connect_vendor`)."""
    return connect_vendor(_app(), slug=args.slug, product_id=args.product, secret_key=args.secret_key,
                          webhook_secret=args.webhook_secret, customers=args.customers, skip=args.skip)


def verify(args) -> dict:
    """Each subscription's record and key, the subscriptions read from stdin (`subscription_keys`)."""
    return subscription_keys(_app(), slug=args.slug, subscriptions=sys.stdin.read().split())


def calls(args) -> dict:
    """Per subscription, the portal's two calls of an event: retrieve (expanded) and the metadata update, with an
    idempotency key as the portal sends them; from `--concurrency` threads, each subscription once. `--client
    gateway` makes them through the portal's own `Gateway` (the same code, HTTP client and settings as the portal's
    webhook), `sdk` through the SDK's service methods (the reference before 2026-12-02). `--start-at` (a Unix time)
    lets several of these processes start together."""
    subscriptions = sys.stdin.read().split()
    metadata = {"skm_key_id": "1", "skm_key_globalid": "1", "skm_temp_var": ""}
    if args.client == "gateway":
        from portal.billing.gateway import Gateway

        gateway = Gateway(args.key, api_base=args.base)

        def pair(subscription: str) -> None:
            gateway.subscription(subscription)
            gateway.update_subscription_metadata(subscription, metadata, idempotency_key=f"skm-key-{subscription}-1")
    else:
        import stripe

        v1 = stripe.StripeClient(args.key, base_addresses={"api": args.base}, max_network_retries=2,
                                 http_client=stripe.RequestsClient(timeout=10)).v1

        def pair(subscription: str) -> None:
            v1.subscriptions.retrieve(subscription, params={"expand": EXPAND})
            v1.subscriptions.update(subscription, params={"metadata": metadata},
                                    options={"idempotency_key": f"skm-key-{subscription}-1"})

    if args.start_at:
        time.sleep(max(0.0, args.start_at - time.time()))
    cpu, started, wall_started = time.process_time(), time.perf_counter(), time.time()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(pair, subscriptions))
    seconds = time.perf_counter() - started
    return {"pairs": len(subscriptions), "seconds": round(seconds, 3), "started": wall_started,
            "ended": wall_started + seconds, "pairs_per_s": round(len(subscriptions) / seconds, 1),
            "client_cpu_s": round(time.process_time() - cpu, 3),
            "client_cpu_ms_per_pair": round((time.process_time() - cpu) / len(subscriptions) * 1000, 2)}


def reference(standin: StandInProcess, subscriptions: list[str], *, client: str, processes: int,
              threads: int) -> dict:
    """The call pairs of `subscriptions` from `processes` processes of `threads` threads each, started together;
    pairs per second from the common start to the last one's end."""
    start_at = time.time() + 2.0  # each process has imported what it needs by then
    slices = [subscriptions[n::processes] for n in range(processes)]
    cpu = standin.cpu_seconds()
    with concurrent.futures.ThreadPoolExecutor(processes) as pool:
        runs = list(pool.map(lambda part: helper(
            "calls", "--base", standin.url, "--key", standin.secret_key, "--client", client,
            "--concurrency", str(threads), "--start-at", str(start_at), stdin="\n".join(part)), slices))
    pairs = sum(run["pairs"] for run in runs)
    seconds = max(run["ended"] for run in runs) - min(run["started"] for run in runs)
    return {"client": client, "processes": processes, "threads": threads, "pairs": pairs,
            "seconds": round(seconds, 3), "pairs_per_s": round(pairs / seconds, 1),
            "client_cpu_ms_per_pair": round(sum(run["client_cpu_s"] for run in runs) / pairs * 1000, 2),
            "standin_cpu_ms_per_pair": round((standin.cpu_seconds() - cpu) / pairs * 1000, 2)}


def fire(args) -> dict:
    """Each event once, signed as Stripe signs (at the moment it is sent), from `--concurrency` threads, each
    with one request at a time on a new connection (the sync workers close each one after the answer)."""
    bodies = json.loads(Path(args.events).read_text())
    url = urllib.parse.urlsplit(args.url)
    lock, answers = threading.Lock(), []

    def send(body: str) -> None:
        headers = signed_headers(args.secret, body)
        sent = time.perf_counter()
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        try:
            connection.request("POST", url.path, body=body.encode(), headers=headers)
            answer = connection.getresponse()
            status, text = answer.status, answer.read().decode()
        except OSError as error:
            status, text = 0, str(error)
        finally:
            connection.close()
        try:
            outcome = json.loads(text).get("outcome") or json.loads(text).get("error", "?")
        except ValueError:
            outcome = text[:80]
        with lock:
            answers.append((status, outcome, time.perf_counter() - sent))

    cpu, started = time.process_time(), time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(send, bodies))
    seconds = time.perf_counter() - started
    latencies = sorted(latency * 1000 for _, _, latency in answers)

    def tally(index: int) -> dict:
        counts: dict = {}
        for answer in answers:
            counts[str(answer[index])] = counts.get(str(answer[index]), 0) + 1
        return counts

    return {"events": len(bodies), "seconds": round(seconds, 3), "events_per_s": round(len(bodies) / seconds, 1),
            "status": tally(0), "outcomes": tally(1), "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2),
            "client_cpu_s": round(time.process_time() - cpu, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    step = steps.add_parser("connect")
    for name in ("--slug", "--secret-key", "--webhook-secret"):
        step.add_argument(name, required=True)
    for name in ("--product", "--customers", "--skip"):
        step.add_argument(name, type=int, required=True)
    steps.add_parser("verify").add_argument("--slug", required=True)
    step = steps.add_parser("calls")
    step.add_argument("--base", required=True)
    step.add_argument("--key", required=True)
    step.add_argument("--concurrency", type=int, default=16)
    step.add_argument("--client", choices=["gateway", "sdk"], default="gateway")
    step.add_argument("--start-at", type=float, default=0.0)
    step = steps.add_parser("fire")
    for name in ("--url", "--secret", "--events"):
        step.add_argument(name, required=True)
    step.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    result = {"connect": connect, "verify": verify, "calls": calls, "fire": fire}[args.step](args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
