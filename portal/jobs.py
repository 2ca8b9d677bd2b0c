"""Background jobs on huey: SQLite storage by default, Redis when REDIS_URL is set, inline for tests."""

import os
from contextlib import nullcontext
from pathlib import Path

from flask import has_app_context
from huey import MemoryHuey, RedisHuey, SqliteHuey

from portal.config import PROJECT_ROOT, env_flag, env_str


def _build_huey():
    if env_flag("JOBS_IMMEDIATE", False):
        return MemoryHuey("portal", immediate=True)
    if os.environ.get("REDIS_URL"):
        return RedisHuey("portal", url=os.environ["REDIS_URL"])
    path = Path(env_str("JOBS_SQLITE_PATH", str(PROJECT_ROOT / "instance" / "jobs.db")))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("portal", filename=str(path))


huey = _build_huey()
_worker_app = None


def app_context():
    """The app context a job runs in: the caller's when run inline, else one app made once per worker."""
    if has_app_context():
        return nullcontext()
    global _worker_app
    if _worker_app is None:
        from portal import create_app

        _worker_app = create_app()
    return _worker_app.app_context()
