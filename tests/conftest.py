"""Fixtures that make every test short: an app on a fresh database, vendors, customers, logged-in clients.

The suite runs once per database: PORTAL_TEST_DATABASE is `sqlite` or a PostgreSQL URL (devtools/test.sh).
Each xdist worker gets a database of its own, migrated with Alembic, and every test starts on empty tables.
"""

import os

os.environ.setdefault("JOBS_IMMEDIATE", "1")
os.environ.setdefault("PORTAL_NO_DOTENV", "1")
os.environ.setdefault("PORTAL_FAST_HASHING", "1")

from email import message_from_bytes, policy  # noqa: E402

import psycopg  # noqa: E402
import pytest  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import portal.api_models  # noqa: E402, F401 - the Web API's tables are emptied between tests too
import portal.billing_models  # noqa: E402, F401 - the Stripe tables are emptied between tests too
from portal import create_app, jobs  # noqa: E402
from portal.customer_search.index import FTS_TABLE  # noqa: E402
from portal.db import make_engine  # noqa: E402
from tests.support import mail as mail_support  # noqa: E402
from tests.support.factories import Factory  # noqa: E402
from tests.support.migrate import upgrade  # noqa: E402
from tests.support.world import World, build_world  # noqa: E402

TEST_DATABASE = os.environ.get("PORTAL_TEST_DATABASE", "sqlite")


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.db'}"
    else:
        server = make_url(TEST_DATABASE.replace("postgresql+psycopg", "postgresql"))
        # One database per worker and per run, so two runs on one machine never share one.
        name = f"portal_test_{_worker()}_{os.getpid()}"
        admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    if TEST_DATABASE != "sqlite":
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def smtp_server():
    server = mail_support.SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mailbox(smtp_server):
    smtp_server.messages.clear()
    return smtp_server


def _empty_tables(url: str) -> None:
    engine = make_engine(url)
    tables = [table.name for table in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # A connection a test left open in a transaction would make TRUNCATE wait for ever: fail instead.
            connection.execute(text("SET LOCAL lock_timeout = '20s'"))
            connection.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in (FTS_TABLE, *tables):  # SQLite's search index has no foreign key to cascade from
                connection.execute(text(f'DELETE FROM "{table}"'))
    engine.dispose()


@pytest.fixture
def app(database_url, smtp_server, tmp_path):
    _empty_tables(database_url)
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "MAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "MAIL_OUTBOX_DIR": str(tmp_path / "outbox"),
        "PORTAL_BASE_URL": "",
        "VENDOR_REGISTRATION": True,
    })
    jobs.bind_worker_app(app)  # a job started outside a request runs in this app, never on the default database
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class FreshSession(Session):
    """A test's view of the database: each read or new write first ends the last read, so it sees what the app
    committed and, on SQLite, never tries to write from a stale snapshot (which fails at once as "locked").

    Its reads begin DEFERRED on SQLite, so a test holding a session never blocks the app's writers.
    """

    def _see_latest(self) -> None:
        idle = self.in_transaction() and not self.in_nested_transaction() and not self.info.get("flushed")
        if idle and not (self.new or self.dirty or self.deleted):
            self.commit()

    def exec(self, *args, **kwargs):
        self._see_latest()
        return super().exec(*args, **kwargs)

    def execute(self, *args, **kwargs):
        self._see_latest()
        return super().execute(*args, **kwargs)

    def get(self, *args, **kwargs):
        self._see_latest()
        return super().get(*args, **kwargs)

    def refresh(self, *args, **kwargs):
        self._see_latest()
        return super().refresh(*args, **kwargs)

    def add(self, *args, **kwargs):
        self._see_latest()
        return super().add(*args, **kwargs)


@event.listens_for(FreshSession, "after_flush")
def _remember_flush(session, _context):
    session.info["flushed"] = True


@event.listens_for(FreshSession, "after_transaction_end")
def _forget_flush(session, transaction):
    if transaction.parent is None:
        session.info.pop("flushed", None)


@pytest.fixture
def db(app):
    with FreshSession(app.extensions["db_read_engine"]) as session:
        yield session


@pytest.fixture
def make(app, db):
    """Build domain records in one line: `make.vendor()`, `make.customer(vendor)`, `make.account(...)`."""
    return Factory(app, db)


@pytest.fixture
def vendor(make):
    return make.vendor(slug="acme.io", name="Acme <Software> & Co")


@pytest.fixture
def other_vendor(make):
    return make.vendor(slug="globex", name="Globex")


@pytest.fixture
def vendor_client(app, make, vendor):
    """A test client logged in to `vendor`'s dashboard."""
    client = app.test_client()
    make.login_vendor(client, vendor)
    return client


@pytest.fixture
def customer(make, vendor):
    return make.customer(vendor, name="Ada Lovelace", email="ada@example.test", company_name="Engines Ltd")


@pytest.fixture
def account(make, vendor, customer):
    return make.account(vendor, customer, email="ada@example.test")


@pytest.fixture
def portal_client(app, make, vendor, account):
    """A test client logged in to `vendor`'s portal as `account`."""
    client = app.test_client()
    make.login_portal(client, vendor, account)
    return client


@pytest.fixture
def world(make, db, vendor, other_vendor, customer, account) -> World:
    """Two vendors with records of every kind (tests/support/world.py), for the tests of who may name what."""
    return build_world(make, db, vendor, other_vendor, customer, account)


def parse_mail(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)
