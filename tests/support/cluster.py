"""A throwaway PostgreSQL cluster a test makes itself (`initdb`, `pg_ctl` as the `postgres` user), on a free port
and a temporary directory owned by `postgres`, to stop and start at will. The shared server is never touched."""

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from tests.support.gunicorn import free_port


def binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def can_make_one() -> bool:
    return binaries() is not None and (os.geteuid() == 0 or _am_postgres()) and shutil.which("runuser") is not None


def _am_postgres() -> bool:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name == "postgres"


class Cluster:
    def __init__(self):
        self.bin = binaries()
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="portal-pg-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/portal"

    def _as_postgres(self, *command: str, timeout: float = 60) -> None:
        prefix = [] if _am_postgres() else ["runuser", "-u", "postgres", "--"]
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=timeout, cwd=self.dir)

    def create(self) -> "Cluster":
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8")
        self.start()
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True) as admin:
            admin.execute("CREATE DATABASE portal")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.dir / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.dir, ignore_errors=True)
