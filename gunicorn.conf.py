"""Production server settings: `gunicorn -c gunicorn.conf.py wsgi:app`, each overridable from the environment.

Sync workers, one request at a time each, as many as 2 x CPUs + 1, behind a buffering proxy (the README's
production section). The portal's pages are CPU work in Python with short database calls, so processes serve
them better than threads: measured on 2 cores (bench/), 4 threads per worker halved the requests/s of the
dashboard against one, the threads queueing for the interpreter lock. Sync workers also close each connection,
so the kernel spreads clients over the workers evenly.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * multiprocessing.cpu_count() + 1)))
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))  # for GUNICORN_WORKER_CLASS=gthread
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
# Each worker builds its own app (and database pool) after the fork.
preload_app = False
