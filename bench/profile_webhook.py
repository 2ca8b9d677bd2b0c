"""Where an event of the `webhook` path spends its time: the portal in-process (Flask's test client), cProfiled.

    .venv/bin/python bench/profile_webhook.py --size small --database sqlite [--events 200] [--top 30]

After a `make bench` of that size has built its database: starts the Stripe stand-in as a process, connects the
bench vendor and makes the subscriptions as the benchmark does, then posts each event once, signed, through the
test client in this one thread: first unprofiled (milliseconds per event, and the same for the stand-in's two
calls alone from this thread), with each step of an event timed by wrappers put around the portal's functions
from here (portal/ is not changed) and its SQL statements counted; then under cProfile, printing the functions
by cumulative and by own time.
"""

import argparse
import cProfile
import json
import os
import pstats
import sys
import time
from collections import defaultdict

os.environ.setdefault("PORTAL_NO_DOTENV", "1")

import run  # noqa: E402 - bench/run.py, beside this file
import webhook  # noqa: E402 - bench/webhook.py, beside this file
from stripe_events import signed_headers  # noqa: E402 - bench/stripe_events.py, beside this file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=["full", "small"], default="small")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--events", type=int, default=200, help="events timed, and as many again profiled")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    facts = json.loads((run.OUT / f"facts-{args.database}-{args.size}.json").read_text())
    standin = webhook.StandInProcess(run.free_port(), f"profile-{args.database}")
    try:
        _env, secret, made, bodies = webhook.in_process_events(args.database, facts, standin, 3 * args.events)
        bodies = bodies[:2 * args.events]
        from portal import create_app

        client = create_app().test_client()
        path = f"/stripe/webhook/{facts['vendor_slug']}"

        def post(body: str) -> None:
            answer = client.post(path, data=body, headers=signed_headers(secret, body))
            assert answer.status_code == 200 and answer.json["outcome"] == "done", answer.get_data(as_text=True)

        timed, profiled = bodies[:args.events], bodies[args.events:]
        spent = timing_wrappers(client.application)
        started, cpu_started = time.perf_counter(), time.process_time()
        for body in timed:
            spent["last event's statements"].clear()
            post(body)
        per_event = (time.perf_counter() - started) / len(timed) * 1000
        cpu_per_event = (time.process_time() - cpu_started) / len(timed) * 1000
        statements = spent.pop("last event's statements")
        for name, (calls, seconds) in spent.items():
            print(f"  {name:<48} {calls / len(timed):>5.1f} per event {seconds / len(timed) * 1000:>7.2f} ms")
        spent.clear()
        alone = webhook.helper("calls", "--base", standin.url, "--key", standin.secret_key, "--concurrency", "1",
                               stdin="\n".join(made[2 * args.events:]))
        print("  the last event's statements:")
        for line in statements:
            print(f"    {line}")
        print(f"{per_event:.1f} ms per event in-process, one at a time ({len(timed)} events, {args.database}), "
              f"{cpu_per_event:.1f} ms of this process's CPU (the portal and its SDK client); "
              f"the stand-in's two calls alone from one thread: {1000 / alone['pairs_per_s']:.1f} ms a pair "
              f"(SDK client CPU {alone['client_cpu_ms_per_pair']} ms)", flush=True)
        profile = cProfile.Profile()
        profile.enable()
        for body in profiled:
            post(body)
        profile.disable()
        stats = pstats.Stats(profile, stream=sys.stdout)
        stats.strip_dirs().sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.dump_stats(str(run.OUT / f"profile-webhook-{args.database}.pstats"))
    finally:
        standin.stop()
    return 0


def timing_wrappers(app) -> dict:
    """Wrap the steps of an event (from here, for this process only) to time them; count SQL statements."""
    from sqlalchemy import event

    from portal.billing import events, gateway, sync, webhooks
    from portal.keys import services as keys

    spent: dict = defaultdict(lambda: [0, 0.0])

    def wrap(owner, name: str, label: str) -> None:
        inner = getattr(owner, name)
        spent[label]  # noqa: B018 - printed in the order wrapped

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                spent[label][0] += 1
                spent[label][1] += time.perf_counter() - started

        setattr(owner, name, timed)

    spent["SQL statements"], spent["SAVEPOINTs"], spent["commits"]  # noqa: B018
    spent["last event's statements"] = []
    wrap(webhooks, "handle_event", "handle_event (all but the request, lookup and signature)")
    wrap(gateway.Gateway, "subscription", "  Stripe: retrieve the subscription")
    wrap(events, "_record", "  record the event")
    wrap(events, "sync", "  sync")
    wrap(sync, "plan_of", "    plan_of")
    wrap(sync, "_customer_and_link", "    customer_of (and its link)")
    wrap(sync, "_claim", "    claim the record")
    wrap(sync, "_make_key", "    make the key")
    wrap(keys, "create_keys", "      create_keys")
    wrap(sync, "add_object", "      add_object (cryptolens_stripesubscriptionitemid)")
    wrap(sync, "renew_key", "    renew_key")
    wrap(sync, "record_change", "    record_change (subscription.synced)")
    wrap(events, "write_back", "  write_back")
    wrap(gateway.Gateway, "update_subscription_metadata", "    Stripe: update the subscription's metadata")
    wrap(events, "_done", "  mark the event done (with the key written)")
    engine = app.extensions["db_engine"]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(_connection, _cursor, statement, *_args):
        spent["SQL statements"][0] += 1
        spent["last event's statements"].append(" ".join(statement.split())[:110])

    @event.listens_for(engine, "savepoint")
    def _savepoints(*_args):
        spent["SAVEPOINTs"][0] += 1  # its SAVEPOINT and RELEASE are among the statements too

    @event.listens_for(engine, "commit")
    def _commits(*_args):
        spent["commits"][0] += 1
        spent["last event's statements"].append("COMMIT")

    return spent


if __name__ == "__main__":
    sys.exit(main())
