"""The database engine and the request's session, cached on `g` and closed at teardown."""

import logging
from datetime import datetime

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import create_engine, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from portal.columns import utcnow

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if not url.startswith("sqlite"):
        # A connection the server or a proxy dropped (a restart, an idle timeout) is replaced before a request uses it.
        return create_engine(url, pool_size=5, max_overflow=5, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
    _make_sqlite_safe_for_concurrency(engine)
    return engine


def _make_sqlite_safe_for_concurrency(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A writer takes the write lock up front, so two writers queue instead of one failing on upgrade.
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        if mode is not None:
            connection.exec_driver_sql(f"BEGIN {mode}")


def read_only(engine: Engine) -> Engine:
    """The same engine for work that only reads: on SQLite its transactions do not take the write lock."""
    return engine.execution_options(sqlite_begin="DEFERRED")


def page_reads(engine: Engine) -> Engine:
    """The engine of GET and HEAD requests, on whose connections the database refuses every write.

    A GET that wrote would make a change that no CSRF token guards. PostgreSQL begins each of these transactions
    READ ONLY; on SQLite a connection is `query_only` while a GET or HEAD request holds it.
    """
    reads = read_only(engine)
    if engine.dialect.name == "postgresql":
        return reads.execution_options(postgresql_readonly=True)

    @event.listens_for(engine, "engine_connect")  # for connections of this engine and of the engines made from it
    def _query_only_for_pages(connection):
        # Setting the flag makes SQLite discard the connection's prepared statements, so a connection keeps it until
        # a request of the other kind takes the connection.
        query_only = connection.get_execution_options().get("sqlite_query_only", False)
        entry = connection.connection
        if entry.info.get("query_only", False) != query_only:
            entry.driver_connection.execute(f"PRAGMA query_only = {'ON' if query_only else 'OFF'}")
            entry.info["query_only"] = query_only

    return reads.execution_options(sqlite_query_only=True)


def database_now(session: Session) -> datetime:
    """Now by the database's clock, which every app process shares on whatever host it runs (SQLite's processes
    share this machine's), for moments that processes compare with each other's. Read in the session's transaction."""
    if session.get_bind().dialect.name == "postgresql":
        return session.execute(select(func.clock_timestamp())).scalar_one()
    return utcnow()


def database_now_in_sql(session: Session):
    """`database_now` as a value an INSERT or UPDATE takes, with no statement of its own."""
    return func.clock_timestamp() if session.get_bind().dialect.name == "postgresql" else utcnow()


def get_session() -> Session:
    if "db_session" not in g:
        reads_only = has_request_context() and request.method in SAFE_METHODS
        engine = current_app.extensions["db_page_engine" if reads_only else "db_engine"]
        g.db_session = Session(engine, expire_on_commit=False)
    return g.db_session


def close_session(_exc=None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        try:
            session.close()
        except DBAPIError:
            # The server dropped the connection (a restart) after the answer was made: rolling back on it fails, and
            # the pool discards it. The answer stands; failing here would turn it into an empty 500.
            log.warning("closing a request's session: its connection was lost", exc_info=True)


def init_app(app: Flask) -> None:
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["db_engine"] = engine
    app.extensions["db_read_engine"] = read_only(engine)  # reads in a transaction of their own (the CSV export)
    app.extensions["db_page_engine"] = page_reads(engine)
    app.teardown_appcontext(close_session)
