"""Instructions per event of the `webhook` path, counted by callgrind: the portal's own work, whatever the noise.

    .venv/bin/python bench/instructions_webhook.py --database sqlite [--size small]

After a `make bench` of that size has built its database: starts the Stripe stand-in as a process, connects the
bench vendor and makes subscriptions as the benchmark does (bench/profile_webhook.py), then runs two children under
`valgrind --tool=callgrind`, each posting signed `customer.subscription.created` events once through the app's test
client after the same warm-up, one with FEW and one with MANY events; prints the difference divided by MANY - FEW.
Everything the worker does for an event is counted (Flask, the signature, SQLAlchemy, the database driver, and
SQLite itself; the SDK's client side of the two Stripe calls); the stand-in and PostgreSQL are other processes.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("PORTAL_NO_DOTENV", "1")

import run  # noqa: E402 - bench/run.py, beside this file
import webhook  # noqa: E402 - bench/webhook.py, beside this file
from stripe_events import signed_headers  # noqa: E402 - bench/stripe_events.py, beside this file

WARM_UP, FEW, MANY = 20, 10, 50


def child(plan: Path, first: int, count: int) -> None:
    """Under callgrind: the app as the bench builds it, WARM_UP events, then `count` more."""
    facts = json.loads(plan.read_text())
    os.environ.update(facts["env"])
    from portal import create_app

    client = create_app().test_client()
    bodies = facts["bodies"][first:first + WARM_UP + count]
    for body in bodies:
        answer = client.post(facts["path"], data=body, headers=signed_headers(facts["secret"], body))
        assert answer.status_code == 200 and answer.json["outcome"] == "done", answer.get_data(as_text=True)


def count(plan: Path, first: int, events: int) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        done = subprocess.run(  # noqa: S603 - valgrind on this very script, fixed arguments
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
             "--child", str(plan), "--first", str(first), "--events", str(events)],
            capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(done.stderr[-3000:])
    return int(re.search(r"refs:\s+([\d,]+)", done.stderr).group(1).replace(",", ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "small"], default="small")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--events", type=int, default=FEW, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.first, args.events)
        return 0
    facts = json.loads((run.OUT / f"facts-{args.database}-{args.size}.json").read_text())
    if args.database == "sqlite":  # a copy of its own: a bench run may connect the vendor anew meanwhile
        copy = run.OUT / f"instructions-{args.size}.db"
        shutil.copyfile(facts["url"].removeprefix("sqlite:///"), copy)
        facts["url"] = f"sqlite:///{copy}"
    standin = webhook.StandInProcess(run.free_port(), f"instructions-{args.database}")
    try:
        env, secret, _made, bodies = webhook.in_process_events(args.database, facts, standin,
                                                              2 * WARM_UP + FEW + MANY)
        with tempfile.TemporaryDirectory() as scratch:
            plan = Path(scratch) / "plan.json"
            plan.write_text(json.dumps({"env": env, "secret": secret, "bodies": bodies,
                                        "path": f"/stripe/webhook/{facts['vendor_slug']}"}))
            with ThreadPoolExecutor(2) as pool:  # the two runs side by side, one per core
                few = pool.submit(count, plan, 0, FEW)
                many = pool.submit(count, plan, WARM_UP + FEW, MANY)
                few, many = few.result(), many.result()
    finally:
        standin.stop()
    print(f"webhook on {args.database} ({args.size}): {(many - few) // (MANY - FEW):,} instructions per event")
    return 0


if __name__ == "__main__":
    sys.exit(main())
