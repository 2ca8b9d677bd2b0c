"""Profile one benchmark path where it really runs: a gunicorn worker under wrk's load, sampled by py-spy.

    .venv/bin/python bench/spy_worker.py dashboard [--size small] [--database sqlite] [--seconds 8]

Serves the portal as `make bench` does (its database of that size must exist), logs in, loads the path with
wrk and samples one worker with py-spy (installed into .venv on first use) while only the thread holding the
interpreter lock counts (`--gil`), so waits for the database or the lock do not show as work. Prints the share
of samples in which each function was on the stack (inclusive) and the functions most often on top (self).
"""

import argparse
import collections
import json
import re
import subprocess
import sys
import time

import run  # bench/run.py, beside this file

PY_SPY = run.ROOT / ".venv" / "bin" / "py-spy"


def ensure_py_spy() -> None:
    if not PY_SPY.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True)  # noqa: S603


def shares(raw: str) -> tuple[int, collections.Counter, collections.Counter]:
    """(samples, inclusive counts, self counts) from py-spy's raw output: `frame;frame;… count` per line."""
    inclusive: collections.Counter = collections.Counter()
    own: collections.Counter = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        total += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
        own[frames[-1]] += int(count)
    return total, inclusive, own


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a benchmark path name, e.g. dashboard or key_search_id")
    parser.add_argument("--size", default="small")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    ensure_py_spy()
    run.ensure_wrk()
    facts = json.loads((run.OUT / f"facts-{args.database}-{args.size}.json").read_text())
    env = run.portal_environment(args.database, facts, "redis" if run.redis_reachable() else "disabled")
    if args.path.startswith("api_"):  # as make bench: the bench's one token makes every call
        env["API_RATE_LIMIT"] = "1000000 per minute"
        facts = facts | {"api": run.api_paths.prepare(env, facts)}
    portal = run.Server("spy-portal", "wsgi:app", env, workers=2, threads=1, worker_class="sync")
    try:
        portal.wait_ready("/vendor/login")
        slug = facts["vendor_slug"]
        paths = {name: (path, who, htmx) for name, path, who, htmx, _ in run.portal_paths(facts, facts["queries"])}
        path, who, htmx = paths[args.path]
        cookie = "" if who == "nobody" else (run.log_in(portal.base, f"/Portal/@{slug}/Login", facts["customer_email"],
                             facts["customer_password"], f"/Portal/@{slug}/") if who == "customer" else
                  run.log_in(portal.base, "/vendor/login", facts["vendor_email"], facts["vendor_password"], "/vendor/"))
        load = {"cookie": cookie, "htmx": htmx, "connections": 16, "threads": 2}
        run.wrk(portal.base + path, seconds=2, **load)  # warm up
        output = run.OUT / f"spy-{args.path}.txt"
        spy = subprocess.Popen([str(PY_SPY), "record", "--pid", str(portal.worker_pids()[0]),  # noqa: S603
                                "--duration", str(args.seconds), "--rate", "200", "--format", "raw",
                                "--output", str(output), "--nonblocking", "--gil"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        figures = run.wrk(portal.base + path, seconds=args.seconds, **load)
        spy.wait()
    finally:
        portal.stop()
    total, inclusive, own = shares(output.read_text())
    print(f"{args.path}: {figures['rps']:.1f} req/s under wrk; {total} samples of one worker holding the GIL "
          f"({100 * total / (200 * args.seconds):.0f} % of the time)")
    for title, counts in (("on the stack", inclusive), ("on top", own)):
        print(f"\n{title}:")
        for frame, count in counts.most_common(args.top):
            print(f"  {100 * count / total:5.1f} %  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
