"""Background jobs on huey: SQLite storage by default, Redis when REDIS_URL is set, inline for tests.

Tasks are declared on `huey` at import; where their queue lives is the app's configuration, set by `init_app`
(so importing a module with tasks opens no queue and writes no file).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import MemoryStorage, RedisStorage, SqliteStorage
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlmodel import Session as ModelSession

huey = Huey("portal", storage_class=MemoryStorage)
_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Put the queue where the app's configuration says: inline (tests), Redis, or a SQLite file."""
    config = app.config
    if config["JOBS_IMMEDIATE"]:
        huey.immediate = True
        return
    huey.immediate = False
    huey.name = config.get("JOBS_QUEUE_NAME", "portal")
    if config["REDIS_URL"]:
        huey.storage_class, huey.storage_kwargs = RedisStorage, {"url": config["REDIS_URL"]}
    else:
        path = Path(config["JOBS_SQLITE_PATH"])
        path.parent.mkdir(parents=True, exist_ok=True)
        huey.storage_class, huey.storage_kwargs = SqliteStorage, {"filename": str(path)}
    huey.storage = huey.create_storage()


def bind_worker_app(app: Flask) -> None:
    """The app a job runs in when no app context is active (the job consumer's, see portal/worker.py)."""
    global _worker_app
    _worker_app = app


def app_context():
    """The app context a job runs in: the caller's when run inline, else the worker's bound app."""
    if has_app_context():
        return nullcontext()
    if _worker_app is None:
        raise RuntimeError("no app for this job: the consumer binds one (huey_consumer portal.worker.huey)")
    return _worker_app.app_context()


@contextmanager
def job_session() -> Iterator[ModelSession]:
    """A database session of its own for a job, in the job's app context (never the request's session)."""
    with app_context(), ModelSession(current_app.extensions["db_engine"], expire_on_commit=False) as session:
        yield session


def queue_again(find: Callable[[ModelSession], list[int]], task: Callable[[int], object]) -> int:
    """The work whose job was lost, queued again: `find` names it (and marks it queued) in a session of its own,
    committed before `task` is queued for each; how many. A periodic sweep's body."""
    with job_session() as session:
        found = find(session)
        session.commit()
    for item in found:
        task(item)
    return len(found)


def in_batches(step: Callable[[ModelSession], int]) -> int:
    """Run `step` (which does up to a batch of work and says how much) in a committed session of its own, again
    and again until it finds nothing left; returns how much it did in all. A periodic sweep's loop."""
    done = 0
    while True:
        with job_session() as session:
            count = step(session)
            session.commit()
        done += count
        if count == 0:
            return done


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
