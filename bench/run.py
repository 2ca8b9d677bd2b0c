"""`make bench`: seed each database at scale, serve the portal and a bare Flask app with gunicorn, load both with wrk.

    .venv/bin/python bench/run.py [--size full|small] [--databases sqlite,postgresql] [--reuse]

Prints a table per database (path, requests/s, p50, p99, ratio to the bare app's requests/s) and the peak memory
of a portal worker, and writes the same to bench/out/latest.json. bench/README.md explains every figure.
"""

import argparse
import base64
import hashlib
import http.cookies
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

os.environ.setdefault("PORTAL_NO_DOTENV", "1")

import api_paths  # noqa: E402 - bench/api_paths.py, beside this file
import seed  # noqa: E402 - bench/seed.py, beside this file
import webhook  # noqa: E402 - bench/webhook.py, beside this file
from servers import REDIS_URL, Server, free_port, portal_environment, redis_reachable  # noqa: E402, F401 - beside

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
USER_AGENT = "portal-bench"
CSRF_TOKEN = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')  # a login form's hidden field
DURATION = {"full": 5, "small": 3}  # seconds of each measured run
ROUNDS = {"full": 3, "small": 2}  # measured runs of each path, interleaved with the others' and the bare app's
WARM_UP = {"full": 3, "small": 2}

# Each target: (minimum ratio to the bare app, maximum p99 in ms). Dashboard 0.35; searches 0.30; p99 30 ms.
TARGETS = {"dashboard": (0.35, 30.0), "customer_search": (0.30, 30.0), "key_search": (0.30, 30.0),
           "api_activate": (0.30, 30.0)}
MEMORY_TARGET_MB = 120
SEED_TARGET_S = 120


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the portal's pages against a bare Flask app.")
    parser.add_argument("--size", choices=sorted(seed.SIZES), default="full")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--duration", type=int, help="seconds of each measured run (default 5, small 3)")
    parser.add_argument("--rounds", type=int, help="measured runs of each path, interleaved (default 3, small 2)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, the same for both apps")
    parser.add_argument("--worker-class", default="sync", help="gunicorn worker class, the same for both apps")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker (gthread), both apps")
    parser.add_argument("--paths", help="only these paths (comma-separated), for a quick look; `webhook` is the "
                        "signed Stripe events path (bench/webhook.py)")
    parser.add_argument("--reuse", action="store_true", help="keep the database of the last run of this size")
    parser.add_argument("--rate-limits", choices=("redis", "disabled"),
                        help="redis (the default where Redis answers): the limits on, counted in Redis as in "
                        "production; disabled: off, to see what the counting costs (not the targets' set-up)")
    args = parser.parse_args()
    duration = args.duration or DURATION[args.size]
    args.rounds = args.rounds or ROUNDS[args.size]
    ensure_wrk()
    OUT.mkdir(parents=True, exist_ok=True)
    rate_limits = args.rate_limits or ("redis" if redis_reachable() else "disabled")
    if rate_limits == "redis" and not redis_reachable():
        parser.error("--rate-limits redis: no Redis answers at 127.0.0.1:6379")

    results: dict = {}
    for database in args.databases.split(","):
        facts = prepare_database(database, args.size, reuse=args.reuse)
        print(f"\n=== {database}: {facts['customers']:,} customers, {facts['keys']:,} keys; "
              f"seeding took {facts['seed_seconds']} s", flush=True)
        results[database] = measure(database, facts, args, duration, rate_limits) | {"rate_limits": rate_limits}
        print_table(database, results[database])

    results["meta"] = {
        "size": args.size, "duration_s": duration, "rounds": args.rounds, "warm_up_s": WARM_UP[args.size],
        "connections": args.connections, "wrk_threads": args.wrk_threads,
        "gunicorn": {"workers": args.workers, "worker_class": args.worker_class, "threads": args.threads},
        "rate_limits": rate_limits, "search_requests": "htmx fragments (HX-Request: true)",
        "webhook": {"events": webhook.EVENTS[args.size], "connections": args.connections, "target": webhook.TARGET,
                    "load": "bench/webhook.py fire: Python threads, one request at a time each, a new connection "
                            "per request", "standin_calls": "stripe SDK, retrieve (expanded) + update per pair"},
        "machine": machine(), "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    latest = OUT / "latest.json"
    latest.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nWritten {latest.relative_to(ROOT)}")
    return 0


# --- The database -----------------------------------------------------------------------------------------------


def prepare_database(database: str, size: str, *, reuse: bool) -> dict:
    facts_file = OUT / f"facts-{database}-{size}.json"
    if reuse and facts_file.exists():
        return json.loads(facts_file.read_text())
    print(f"Seeding {database} ({size})…", flush=True)
    facts = seed.seed(database, size)
    facts_file.write_text(json.dumps(facts, indent=2))
    return facts


# --- Logging in -------------------------------------------------------------------------------------------------


def in_process_client(facts: dict, database: str, path_name: str, rate_limits: str = "disabled"):
    """(app, test client logged in as the path's user, path, headers) for looking at one path in-process: the app
    built with the benchmark's settings on the database the last run of that size built."""
    env = portal_environment(database, facts, rate_limits) | {"API_RATE_LIMIT": "1000000 per minute"}
    if path_name.startswith("api_"):
        # One ENCRYPTION_KEY for every in-process look at this database (bench/instructions.py runs two at once), so
        # that the signing key one of them made is readable by the other.
        digest = hashlib.sha256(f"in-process {facts['url']}".encode()).digest()
        env["ENCRYPTION_KEY"] = base64.urlsafe_b64encode(digest).decode()
        facts = facts | {"api": api_paths.prepare(env, facts)}
    os.environ.update(env)
    from portal import create_app

    app = create_app()
    paths = {name: (path, who, htmx) for name, path, who, htmx, _ in portal_paths(facts, facts["queries"])}
    path, who, htmx = paths[path_name]
    client = app.test_client()
    headers = {"User-Agent": USER_AGENT} | ({"HX-Request": "true"} if htmx else {})
    if who == "nobody":
        return app, client, path, headers
    login = (f"/Portal/@{facts['vendor_slug']}/Login", facts["customer_email"], facts["customer_password"]) \
        if who == "customer" else ("/vendor/login", facts["vendor_email"], facts["vendor_password"])
    html = client.get(login[0], headers=headers).get_data(as_text=True)
    token = CSRF_TOKEN.search(html).group(1)
    answer = client.post(login[0], data={"csrf_token": token, "email": login[1], "password": login[2]},
                         headers=headers)
    assert answer.status_code == 303, answer.status_code
    return app, client, path, headers


def log_in(base: str, page: str, email: str, password: str, expect: str) -> str:
    """Log in as a browser does (GET the form for its CSRF token, POST it); return the Cookie header to send.

    Cookies are kept by hand: the session cookie is `Secure` (SESSION_COOKIE_SECURE=true, as in production), which
    a browser sends to a loopback address but Python's cookie jar keeps for HTTPS only.
    """
    cookies: dict[str, str] = {}
    opener = urllib.request.build_opener(NoRedirect)

    def send(data: bytes | None = None):
        headers = {"User-Agent": USER_AGENT, "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        try:
            request = urllib.request.Request(base + page, data=data, headers=headers)  # noqa: S310 - loopback
            response = opener.open(request, timeout=30)
        except urllib.error.HTTPError as answer:  # the 303 after a successful login
            response = answer
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie(header)
            cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response

    html = send().read().decode()
    token = CSRF_TOKEN.search(html)
    if token is None:
        raise SystemExit(f"no CSRF token on {page}")
    form = urllib.parse.urlencode({"csrf_token": token.group(1), "email": email, "password": password}).encode()
    answer = send(form)
    location = urllib.parse.urlsplit(answer.headers.get("Location", "")).path
    if answer.status != 303 or location != expect:
        raise SystemExit(f"logging in at {page} answered {answer.status} to {location!r}, not 303 to {expect}")
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def check(base: str, path: str, cookie: str, htmx: bool, marker: str) -> int:
    """The page answers 200 with what it should show (never a redirect to a login); returns the body's size."""
    headers = {"User-Agent": USER_AGENT, "Cookie": cookie}
    if htmx:
        headers["HX-Request"] = "true"
    opener = urllib.request.build_opener(NoRedirect)
    try:
        request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 - loopback
        response = opener.open(request, timeout=30)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"{path} answered {error.code}, not 200") from error
    body = response.read().decode()
    if marker not in body:
        raise SystemExit(f"{path} does not show {marker!r}")
    return len(body)


# --- Load -------------------------------------------------------------------------------------------------------


def ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    print("Installing Debian's wrk…", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)  # noqa: S603
    subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)  # noqa: S603
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed")


def wrk(url: str, *, seconds: int, connections: int, threads: int, cookie: str = "", htmx: bool = False) -> dict:
    env = {**os.environ, "BENCH_COOKIE": cookie, "BENCH_HX": "1" if htmx else "0", "BENCH_UA": USER_AGENT}
    completed = subprocess.run(  # noqa: S603 - wrk with fixed arguments, a bounded run
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",  # noqa: S607
         "-s", str(ROOT / "bench" / "report.lua"), url],
        capture_output=True, text=True, env=env, timeout=seconds + 60, check=True)
    line = next((line for line in completed.stdout.splitlines() if line.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no result:\n{completed.stdout}\n{completed.stderr}")
    return json.loads(line.removeprefix("BENCH_RESULT "))


def measure(database: str, facts: dict, args, duration: int, rate_limits: str) -> dict:
    prefix = f"{database}-{facts['size']}"
    with_webhook = not args.paths or "webhook" in args.paths.split(",")
    env = portal_environment(database, facts, rate_limits)
    # The Web API's calls are limited per token; the bench's single token makes every call.
    env["API_RATE_LIMIT"] = "1000000 per minute"
    facts = facts | {"api": api_paths.prepare(env, facts)}
    standin = None
    if with_webhook:  # the stand-in serves from the start, idle until the webhook path, at the portal's STRIPE_API_BASE
        standin = webhook.StandInProcess(free_port(), prefix)
        env["STRIPE_API_BASE"] = standin.url
    bare = Server(f"{prefix}-bare", "bare_app:app", {"PORTAL_NO_DOTENV": "1"}, workers=args.workers,
                  threads=args.threads, worker_class=args.worker_class, extra=("--pythonpath", str(ROOT / "bench")))
    portal = Server(f"{prefix}-portal", "wsgi:app", env,
                    workers=args.workers, threads=args.threads, worker_class=args.worker_class)
    try:
        bare.wait_ready()
        portal.wait_ready("/vendor/login")
        slug, queries = facts["vendor_slug"], facts["queries"]
        vendor_cookie = log_in(portal.base, "/vendor/login", facts["vendor_email"], facts["vendor_password"],
                               "/vendor/")
        customer_cookie = log_in(portal.base, f"/Portal/@{slug}/Login", facts["customer_email"],
                                 facts["customer_password"], f"/Portal/@{slug}/")
        paths = portal_paths(facts, queries)
        if args.paths:
            paths = [p for p in paths if p[0] in args.paths.split(",")]
        load = {"seconds": duration, "connections": args.connections, "threads": args.wrk_threads}
        warm = {**load, "seconds": WARM_UP[facts["size"]]}

        def run(server: Server, name: str, path: str, cookie: str = "", htmx: bool = False,
                warm_up: bool = True) -> dict:
            if warm_up:
                wrk(server.base + path, cookie=cookie, htmx=htmx, **warm)
            figures = wrk(server.base + path, cookie=cookie, htmx=htmx, **load)
            print(f"  {name:<24} {figures['rps']:>8.1f} req/s  p50 {figures['p50_ms']:>6.2f} ms  "
                  f"p99 {figures['p99_ms']:>6.2f} ms", flush=True)
            return figures

        # Rounds: every path once, then every path again, and so on, with the bare app measured before the first
        # path and after each one. A path's ratio in a round is to the mean of the bare runs on either side of it,
        # so a machine that slows down or speeds up (it is shared) moves both figures of a ratio alike; a path's
        # figures are the medians of its rounds, so one noisy stretch of the run moves one round of each path, not
        # all of one path's figures.
        bares = [run(bare, "bare", "/")]
        rounds: dict[str, list[dict]] = {name: [] for name, *_ in paths}
        answers = {}  # name: the path and the size of its page
        for round_ in range(args.rounds):
            print(f"  round {round_ + 1} of {args.rounds}", flush=True)
            for name, path, who, htmx, marker in paths:
                cookie = {"customer": customer_cookie, "vendor": vendor_cookie}.get(who, "")
                answers[name] = {"path": path, "bytes": check(portal.base, path, cookie, htmx, marker)}
                figures = run(portal, name, path, cookie, htmx, warm_up=round_ == 0)
                check(portal.base, path, cookie, htmx, marker)  # still logged in, still the same page
                bares.append(run(bare, "bare", "/", warm_up=False))
                beside = (bares[-2]["rps"] + bares[-1]["rps"]) / 2
                rounds[name].append(figures | {"bare_rps_beside": beside, "ratio": figures["rps"] / beside})

        def median(figure: str, runs: list[dict]) -> float:
            return statistics.median(run[figure] for run in runs)

        result = {"bare": {"rps": round(median("rps", bares), 1), "ratio": 1.0,
                           "p50_ms": round(median("p50_ms", bares), 2), "p99_ms": round(median("p99_ms", bares), 2),
                           "runs_rps": [run["rps"] for run in bares]}}
        for name, runs in rounds.items():
            result[name] = {"rps": round(median("rps", runs), 1), "p50_ms": round(median("p50_ms", runs), 2),
                            "p99_ms": round(median("p99_ms", runs), 2), "ratio": round(median("ratio", runs), 3),
                            "bare_rps_beside": round(median("bare_rps_beside", runs), 1),
                            "p90_ms": round(median("p90_ms", runs), 2),
                            "requests": sum(run["requests"] for run in runs),
                            "errors": sum(run["status_errors"] + run["socket_errors"] for run in runs),
                            "rounds": [{"rps": run["rps"], "p99_ms": round(run["p99_ms"], 2),
                                        "ratio": round(run["ratio"], 3)} for run in runs]} | answers[name]
        result["rounds"] = args.rounds
        result["seed_seconds"] = facts["seed_seconds"]
        workers = portal.worker_memory_mb()
        result["worker_peak_rss_mb"] = max(worker["peak_mb"] for worker in workers)
        result["worker_memory"] = workers
        if standin is not None:  # after the pages' memory figures, which are the pages' alone
            print("  webhook: signed customer.subscription.created events, each once", flush=True)
            result["webhook"] = webhook.run_path(database, facts, standin, portal, env, args.connections,
                                                 (args.workers, args.threads))
            result["webhook"]["worker_memory_after"] = portal.worker_memory_mb()
            print(f"  webhook {result['webhook']['events_per_s']:>17.1f} events/s  (the stand-in alone "
                  f"{result['webhook']['standin_calls_per_s']:.1f} call pairs/s)", flush=True)
        result["bare_worker_peak_rss_mb"] = max(worker["peak_mb"] for worker in bare.worker_memory_mb())
        result["portal_env"] = "production" if database == "postgresql" else "development (production refuses SQLite)"
        return result
    finally:
        bare.stop()
        portal.stop()
        if standin is not None:
            standin.stop()


def portal_paths(facts: dict, queries: dict) -> list[tuple[str, str, str, bool, str]]:
    """(name, path, who is logged in, as an htmx request, what the answer must show)."""
    slug, product = facts["vendor_slug"], facts["product_id"]

    def customers(name: str) -> str:
        return "/vendor/customers/?" + urllib.parse.urlencode({"q": queries[name]})

    def keys(name: str) -> str:
        return f"/vendor/products/{product}?" + urllib.parse.urlencode({"q": queries[name]})

    surname = queries["customer_search_name"].capitalize()
    return [
        ("dashboard", f"/Portal/@{slug}/", "customer", False, "Licenses"),
        ("customer_search_id", customers("customer_search_id"), "vendor", True,
         f"<td>{queries['customer_search_id']}</td>"),
        ("customer_search_email", customers("customer_search_email"), "vendor", True, "<tbody>"),
        ("customer_search_name", customers("customer_search_name"), "vendor", True, surname),
        ("key_search_id", keys("key_search_id"), "vendor", True, f"<td>{queries['key_search_id'][3:]}</td>"),
        ("key_search_key", keys("key_search_key"), "vendor", True, queries["key_search_key"][5:-1]),
        ("key_search_customer", keys("key_search_customer"), "vendor", True, "<tbody>"),
        ("key_search_expires", keys("key_search_expires"), "vendor", True, "<tbody>"),
        *(api_paths.paths(facts["api"]) if "api" in facts else ()),
    ]


# --- Reporting --------------------------------------------------------------------------------------------------


def target_of(name: str) -> tuple[float, float] | None:
    for prefix, target in TARGETS.items():
        if name.startswith(prefix):
            return target
    return None


def print_table(database: str, result: dict) -> None:
    memory = ", ".join(f"{worker['peak_mb']} MB peak / {worker['now_mb']} MB now" for worker in result["worker_memory"])
    print(f"\n{database}  (seeding {result['seed_seconds']} s; portal workers: {memory}; "
          f"bare worker peak {result['bare_worker_peak_rss_mb']} MB)")
    print(f"{'path':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>7}  target   "
          f"(medians of {result['rounds']} rounds)")
    for name, row in result.items():
        if not isinstance(row, dict) or name == "webhook":
            continue
        target = target_of(name)
        verdict = ""
        if target:
            met = row["ratio"] >= target[0] and row["p99_ms"] <= target[1]
            verdict = f"{'met ' if met else 'MISSED'} (≥ {target[0]:.2f}, p99 ≤ {target[1]:.0f} ms)"
            if result.get("rate_limits") != "redis":
                verdict += ", but with the rate limits off"
        print(f"{name:<24} {row['rps']:>9.1f} {row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f} {row['ratio']:>7.3f}  "
              + verdict)
    webhook.print_row(result.get("webhook", {}))
    memory_met = "met" if result["worker_peak_rss_mb"] <= MEMORY_TARGET_MB else "MISSED"
    seed_met = "met" if result["seed_seconds"] <= SEED_TARGET_S else "MISSED"
    print(f"worker peak memory {result['worker_peak_rss_mb']} MB: {memory_met} (≤ {MEMORY_TARGET_MB} MB); "
          f"seeding {result['seed_seconds']} s: {seed_met} (≤ {SEED_TARGET_S} s)", flush=True)


def machine() -> dict:
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    memory = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
    try:
        postgres = subprocess.run(  # noqa: S603
            ["psql", f"{seed.PG_SERVER}/postgres", "-Atc", "SHOW server_version"],  # noqa: S607
            capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        postgres = "unknown"
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]  # noqa: S603,S607
    return {
        "nproc": os.cpu_count(), "cpu": model.group(1) if model else platform.processor(),
        "memory_gb": round(int(memory.group(1)) / 1024 / 1024, 1) if memory else None,
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "postgresql": postgres,
        "wrk": wrk_version.strip(), "kernel": platform.release(),
    }


if __name__ == "__main__":
    sys.exit(main())
