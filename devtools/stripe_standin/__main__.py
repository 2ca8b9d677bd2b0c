"""`python -m devtools.stripe_standin --port 12111 --data-dir instance/stripe --account sk_test_...:Name
[--webhook sk_test_... http://127.0.0.1:5000/stripe/webhook/demo whsec_...]`.

Serves until SIGTERM or SIGINT, then writes what is unsaved and exits 0.
"""

import argparse
import signal
import sys
import threading

from .standin import StandIn
from .store import KEY_PREFIXES


def _account(value: str) -> tuple[str, str | None]:
    key, _, name = value.partition(":")
    if not key.startswith(KEY_PREFIXES):
        raise argparse.ArgumentTypeError("an account's secret key starts with sk_test_ or sk_live_")
    return key, name or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.stripe_standin", description=__doc__)
    parser.add_argument("--port", type=int, default=12111, help="0 picks a free port")
    parser.add_argument("--data-dir", help="keep each account as JSON here (default: memory only)")
    parser.add_argument("--account", type=_account, action="append", default=[], metavar="SECRET_KEY[:NAME]",
                        help="make sure an account with exactly this secret key exists (repeatable)")
    parser.add_argument("--webhook", nargs=3, action="append", default=[],
                        metavar=("SECRET_KEY", "URL", "SIGNING_SECRET"),
                        help="make sure the account has one endpoint for URL's path (every event) signing with this "
                             "secret; one for that path at another address (port) is moved to URL")
    parser.add_argument("--open-accounts", action="store_true",
                        help="an unknown sk_test_ key (8 characters or more after the prefix) opens an account")
    parser.add_argument("--retries", type=int, default=3, help="re-sends of a failed webhook delivery")
    parser.add_argument("--retry-delay", type=float, default=1.0, help="seconds between re-sends")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    standin = StandIn(args.port, args.data_dir, retries=args.retries, retry_delay=args.retry_delay,
                      open_accounts=args.open_accounts).start()
    try:
        for key, name in args.account:
            standin.ensure_account(key, name)
        for key, url, signing_secret in args.webhook:
            standin.ensure_webhook(key, url, signing_secret)
            print(f"stripe stand-in: webhook endpoint {url}", flush=True)
        for account in standin.accounts():
            print(f"stripe stand-in: account {account.id} ({account.name})", flush=True)
        print(f"stripe stand-in: listening on {standin.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        standin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
