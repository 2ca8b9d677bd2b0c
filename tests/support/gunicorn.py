"""The portal as production runs it: `gunicorn -c gunicorn.conf.py wsgi:app`, configured from the environment only.

A test starts one or more servers (each a gunicorn master with its sync workers, on a free loopback port) from the
test app's configuration (`tests.support.processes.child_config`), talks to them over HTTP with `requests`, and may
SIGKILL a worker (the master starts another, as in production).
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(config: dict, **extra) -> dict:
    """The environment that makes `create_app()` in a server the app of `config` (flags as 1 and 0)."""
    env = dict(os.environ, PORTAL_NO_DOTENV="1", PYTHONPATH=str(ROOT))
    for key, value in (config | extra).items():
        env[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return env


class Server:
    """One gunicorn master and its workers; `url` once `start` returned."""

    def __init__(self, config: dict, *, workers: int = 1, log_dir: Path | None = None, **extra):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (log_dir or Path(tempfile.gettempdir())) / f"gunicorn-{self.port}.log"
        self.env = environment(config, **extra) | {
            "GUNICORN_BIND": f"127.0.0.1:{self.port}", "GUNICORN_WORKERS": str(workers),
            "GUNICORN_ACCESSLOG": str(self.log.with_suffix(".access")), "GUNICORN_TIMEOUT": "60"}
        self.process: subprocess.Popen | None = None

    def launch(self) -> "Server":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        return self

    def start(self, timeout: float = 60) -> "Server":
        self.launch().wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 60) -> None:
        """Until `/healthz` answers 200 (a worker still building its app meanwhile takes requests once built)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited {self.process.returncode}: {self.log.read_text()[-3000:]}")
            try:
                if requests.get(self.url + "/healthz", timeout=30).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or every worker still building its app
                pass
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn on {self.url} not ready: {self.log.read_text()[-3000:]}")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except (FileNotFoundError, ProcessLookupError):
            return []

    def kill_worker(self) -> int:
        """SIGKILL one worker, as the kernel's OOM killer or a crash would; the master starts a new one."""
        pid = self.worker_pids()[0]
        os.kill(pid, signal.SIGKILL)
        return pid

    def rss_kib(self) -> dict[int, int]:
        """Each worker's resident memory, in KiB."""
        sizes = {}
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            sizes[pid] = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
        return sizes

    def stop(self) -> None:
        end(self.process, signal.SIGTERM)


@contextmanager
def servers(config: dict, count: int = 2, **options):
    """`count` gunicorn servers of `config`, started side by side; stopped at the end."""
    with ExitStack() as stack:
        options.setdefault("log_dir", Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gunicorn-"))))
        started = [Server(config, **options) for _ in range(count)]
        for server in started:
            stack.callback(server.stop)
            server.launch()
        for server in started:
            server.wait_ready()
        yield started


class Consumer:
    """The job consumer as production runs it (`huey_consumer portal.worker.huey`), from the same environment as
    the servers; `kill` is a SIGKILL, as a crash or the OOM killer would do."""

    def __init__(self, config: dict, *, log_dir: Path | None = None, **extra):
        self.env = environment(config, **extra)
        self.log = (log_dir or Path(tempfile.gettempdir())) / f"consumer-{os.getpid()}-{id(self)}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Consumer":
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "huey.bin.huey_consumer", "portal.worker.huey", "--workers", "2",
                 "--max-delay", "0.5"], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        return self

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=15)

    def stop(self) -> None:
        end(self.process, signal.SIGINT)


def end(process: subprocess.Popen | None, how: int) -> None:
    """Stop a process group started here, by `how` and then, after 15 s, by SIGKILL."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, how)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)
