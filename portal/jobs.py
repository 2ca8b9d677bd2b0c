"""Background jobs on huey: SQLite storage by default, Redis when REDIS_URL is set, inline for tests."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from flask import current_app, has_app_context
from huey import MemoryHuey, RedisHuey, SqliteHuey
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import Session as ModelSession

from portal.config import PROJECT_ROOT, env_flag, env_str


def _build_huey():
    if env_flag("JOBS_IMMEDIATE", False):
        return MemoryHuey("portal", immediate=True)
    if env_str("REDIS_URL", ""):
        return RedisHuey("portal", url=env_str("REDIS_URL", ""))
    path = Path(env_str("JOBS_SQLITE_PATH", str(PROJECT_ROOT / "instance" / "jobs.db")))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("portal", filename=str(path))


huey = _build_huey()
_worker_app = None


def bind_worker_app(app) -> None:
    global _worker_app
    _worker_app = app


def app_context():
    """The app context a job runs in: the caller's when run inline, else one app made once per worker."""
    if has_app_context():
        return nullcontext()
    global _worker_app
    if _worker_app is None:
        from portal import create_app

        _worker_app = create_app()
    return _worker_app.app_context()


@contextmanager
def job_session() -> Iterator[ModelSession]:
    """A database session of its own for a job, in the job's app context (never the request's session)."""
    with app_context(), ModelSession(current_app.extensions["db_engine"], expire_on_commit=False) as session:
        yield session


_AFTER_COMMIT = "portal.after_commit"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` (enqueue a job, send a mail) once the session's transaction commits; drop it on rollback."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


@event.listens_for(Session, "after_transaction_end")
def _forget_after_commit(session: Session, transaction) -> None:
    # Only the outermost transaction's end counts: a rolled-back savepoint keeps what the transaction queued.
    # After a commit the queue is already empty; after a rollback, what it held is dropped here.
    if transaction.parent is None:
        session.info.pop(_AFTER_COMMIT, None)
