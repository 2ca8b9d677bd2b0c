"""Profile one benchmark path in-process with pyinstrument, on the database the last `make bench` built.

    .venv/bin/python bench/profile_path.py dashboard [--size small] [--database sqlite] [--requests 300] [--html]

Builds the app with the benchmark's settings, logs in with Flask's test client, sends the path a number of
times under pyinstrument (installed into .venv on first use) and prints where the time went, plus the SQL
statements of one request. Single-threaded: it shows the cost of one request, not the server's concurrency.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("PORTAL_NO_DOTENV", "1")

import run  # noqa: E402 - bench/run.py, beside this file

ROOT = Path(__file__).resolve().parent.parent


def ensure_pyinstrument() -> None:
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "pyinstrument"], check=True)  # noqa: S603


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a benchmark path name, e.g. dashboard or key_search_expires")
    parser.add_argument("--size", default="small")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--html", action="store_true", help="write bench/out/profile-<path>.html")
    args = parser.parse_args()
    ensure_pyinstrument()
    from pyinstrument import Profiler
    from sqlalchemy import event

    facts = json.loads((run.OUT / f"facts-{args.database}-{args.size}.json").read_text())
    app, client, path, headers = run.in_process_client(
        facts, args.database, args.path, "redis" if run.redis_reachable() else "disabled")

    statements = []

    @event.listens_for(app.extensions["db_engine"], "before_cursor_execute")
    def _count(_conn, _cursor, statement, _parameters, _context, _many):
        statements.append(statement)

    for _ in range(20):  # warm up: caches, compiled SQL, the database's pages
        assert client.get(path, headers=headers).status_code == 200
    statements.clear()
    client.get(path, headers=headers)
    print(f"{args.path}: {len(statements)} SQL statements in one request")
    for statement in statements:
        print("  " + " ".join(statement.split())[:160])

    # Unprofiled first: the cost of one request through the test client, beside the bare app's through its own.
    import bare_app

    bare = bare_app.app.test_client()
    timings = {}
    for name, send in (("portal", lambda: client.get(path, headers=headers)), ("bare", lambda: bare.get("/"))):
        started = time.perf_counter()
        for _ in range(args.requests):
            send()
        timings[name] = (time.perf_counter() - started) / args.requests
    print(f"unprofiled: {1000 * timings['portal']:.3f} ms per request; bare app {1000 * timings['bare']:.3f} ms "
          f"(ratio {timings['bare'] / timings['portal']:.3f}, test client included)")

    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    profiler.start()
    for _ in range(args.requests):
        client.get(path, headers=headers)
    profiler.stop()
    elapsed = time.perf_counter() - started
    print(f"{args.requests} requests in {elapsed:.2f} s: {1000 * elapsed / args.requests:.2f} ms each")
    if args.html:
        target = run.OUT / f"profile-{args.path}.html"
        target.write_text(profiler.output_html())
        print(f"Written {target}")
    print(profiler.output_text(unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
