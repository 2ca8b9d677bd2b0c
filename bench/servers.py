"""The servers of `make bench`: gunicorn serving an app with gunicorn.conf.py, and the portal's production settings."""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
GUNICORN = Path(sys.executable).with_name("gunicorn")  # the venv's (.venv, or the one a worktree borrows)
REDIS_URL = "redis://127.0.0.1:6379/15"



class Server:
    """One gunicorn master serving an app on a free loopback port, with gunicorn.conf.py."""

    def __init__(self, name: str, app: str, env: dict, *, workers: int, threads: int, worker_class: str,
                 extra: tuple = ()):
        self.name = name
        self.port = free_port()
        self.log = open(OUT / f"{name}-server.log", "w")  # noqa: SIM115 - closed in stop()
        environment = {**os.environ, **env, "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                       "GUNICORN_WORKERS": str(workers), "GUNICORN_WORKER_CLASS": worker_class,
                       "GUNICORN_THREADS": str(threads), "GUNICORN_ACCESSLOG": str(OUT / f"{name}-access.log")}
        self.process = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [str(GUNICORN), "-c", str(ROOT / "gunicorn.conf.py"), *extra, app], cwd=ROOT, env=environment,
            stdout=self.log, stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str = "/", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.name} exited: see {self.log.name}")
            try:
                urllib.request.urlopen(self.base + path, timeout=2).close()  # noqa: S310 - loopback
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"{self.name} did not answer within {timeout} s: see {self.log.name}")

    def worker_pids(self) -> list[int]:
        master = self.process.pid
        try:
            children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
            return [int(pid) for pid in children]
        except OSError:
            return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and _parent(p) == master]

    def worker_memory_mb(self) -> list[dict]:
        """Each worker's peak resident set (VmHWM) and present one (VmRSS), in MB."""
        workers = []
        for pid in self.worker_pids():
            status = Path(f"/proc/{pid}/status").read_text()
            sizes = {name: int(re.search(rf"^{name}:\s+(\d+) kB", status, re.MULTILINE).group(1))
                     for name in ("VmHWM", "VmRSS")}
            workers.append({"peak_mb": round(sizes["VmHWM"] / 1024, 1), "now_mb": round(sizes["VmRSS"] / 1024, 1)})
        return workers

    def stop(self) -> None:
        stop_process(self.process, self.log)


def stop_process(process: subprocess.Popen, log) -> None:
    """Stop a server we started and close its log. SIGINT is gunicorn's quick shutdown (SIGTERM would wait out
    idle keep-alive connections) and the stand-in's clean one."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


def _parent(proc: Path) -> int | None:
    try:
        return int(proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def portal_environment(database: str, facts: dict, rate_limits: str) -> dict:
    """The production configuration of the README; SQLite runs as development, which production refuses."""
    env = {
        "PORTAL_ENV": "production" if database == "postgresql" else "development",
        "PORTAL_NO_DOTENV": "1",
        "SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": facts["url"],
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "2525",
        "PORTAL_BASE_URL": "https://portal.bench.example",  # production requires it (links in mail)
        "VENDOR_REGISTRATION": "false",
        "SESSION_COOKIE_SECURE": "true",
        "JOBS_SQLITE_PATH": str(OUT / "jobs.db"),
        "REDIS_URL": REDIS_URL,
    }
    if rate_limits != "redis":  # no Redis on this machine: production still needs the URL, limits are off
        env["RATELIMIT_ENABLED"] = "false"
    return env
