"""Instructions per request of one benchmark path, counted by callgrind: a figure the machine's noise cannot move.

    .venv/bin/python bench/instructions.py dashboard [--database sqlite] [--size full] [--bare] [--rate-limits redis]

On a shared machine two identical wrk runs can differ by a tenth; callgrind counts the same instructions for the
same work whatever else runs. This runs the path twice under `valgrind --tool=callgrind` (Debian's valgrind),
once with 40 and once with 240 requests after the same warm-up, through the app's WSGI callable with a
logged-in session (no test client, no server), and prints the difference divided by 200: the cost of one
request, start-up excluded. Use it to compare a change with the code before it on the database the last
`make bench` built (`--reuse` keeps it). It takes about a minute.
"""

import argparse
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("PORTAL_NO_DOTENV", "1")

import run  # noqa: E402 - bench/run.py, beside this file

WARM_UP = 60
FEW, MANY = 40, 240


def count(args: argparse.Namespace) -> int:
    """Run `requests` requests under callgrind in a child process; return the instructions it counted."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        done = subprocess.run(  # noqa: S603 - valgrind on this very script, fixed arguments
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__, args.path,
             "--database", args.database, "--size", args.size, "--requests", str(args.requests),
             "--rate-limits", args.rate_limits, *(["--bare"] if args.bare else []), "--child"],
            capture_output=True, text=True, check=True)
    total = re.search(r"refs:\s+([\d,]+)", done.stderr)
    return int(total.group(1).replace(",", ""))


def serve(args: argparse.Namespace) -> None:
    """In the child: build the app as the benchmark serves it, log in, warm up, then send the requests."""
    facts = json.loads((run.OUT / f"facts-{args.database}-{args.size}.json").read_text())
    app, client, path, headers = run.in_process_client(facts, args.database, args.path, args.rate_limits)
    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": route, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
        "wsgi.multiprocess": True, "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": run.USER_AGENT, "HTTP_COOKIE": cookie,
        **({"HTTP_HX_REQUEST": headers["HX-Request"]} if "HX-Request" in headers else {}),
    }
    if args.bare:
        import bare_app

        app, environ = bare_app.app, environ | {"PATH_INFO": "/", "QUERY_STRING": "", "HTTP_COOKIE": ""}
    statuses = []

    def one() -> None:
        body = app.wsgi_app(dict(environ), lambda status, _headers, _exc=None: statuses.append(status))
        b"".join(body)
        getattr(body, "close", lambda: None)()

    for _ in range(WARM_UP):
        one()
    assert statuses[-1].startswith("200"), statuses[-1]
    for _ in range(args.requests):
        one()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", help="a benchmark path name, e.g. dashboard or key_search_expires")
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--size", default="full")
    parser.add_argument("--bare", action="store_true", help="count the bare Flask app instead")
    parser.add_argument("--rate-limits", choices=("disabled", "redis"), default="disabled",
                        help="redis: the rate limits on, counted in Redis as served (the Web API's per-token limit)")
    parser.add_argument("--requests", type=int, default=FEW, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        serve(args)
        return 0
    with ThreadPoolExecutor(2) as pool:  # the two runs side by side, one per core
        few, many = pool.map(count, (argparse.Namespace(**{**vars(args), "requests": n}) for n in (FEW, MANY)))
    what = ("bare app" if args.bare else args.path) + (", rate limits on" if args.rate_limits == "redis" else "")
    print(f"{what} on {args.database} ({args.size}): {(many - few) // (MANY - FEW):,} instructions per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
