"""Production server settings: `gunicorn -c gunicorn.conf.py wsgi:app`, each overridable from the environment.

Sync workers, one request at a time each, as many as 2 x CPUs + 1, behind a buffering proxy (the README's
production section). The portal's pages are CPU work in Python with short database calls, so processes serve
them better than threads: measured on 2 cores (bench/), 4 threads per worker halved the requests/s of the
dashboard against one, the threads queueing for the interpreter lock, and gthread with one thread gave a worse
p99 than sync. Sync workers also close each connection, so the kernel spreads clients over the workers evenly.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# The CPUs this process may run on (a container's cpuset, not the host's count); set GUNICORN_WORKERS where a
# CPU quota rather than a cpuset limits the container. Each worker holds about 100 MB and its own database pool.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * len(os.sched_getaffinity(0)) + 1)))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))  # for GUNICORN_WORKER_CLASS=gthread
# A sync worker is restarted when one request runs longer than this. The longest request is the CSV export of a
# product's keys, streamed: a million keys took 34 s on the benchmark machine.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "300"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
# The request's path without its query string, and no Referer (the page it came from, with that page's query): a Web
# API call may carry its access token in the query (GET works as POST does), a password-reset page its one-time
# token, a search what was searched for; none of them belongs in a log.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
# Each worker builds its own app (and database pool) after the fork.
preload_app = False


def post_worker_init(worker):
    """Once the app is built, move its long-lived objects (modules, the app, compiled SQL and templates) out of
    the garbage collector's sight: a full collection then walks only what requests made, instead of pausing a
    request for tens of milliseconds every few thousand requests (measured: 70 ms per full collection)."""
    import gc

    gc.collect()
    gc.freeze()
