"""The Alembic chain and the models describe the same schema, on SQLite and on PostgreSQL."""

from datetime import UTC, datetime

import psycopg
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from portal.customer_search.index import compared_with_the_models
from portal.db import make_engine
from tests.support.migrate import alembic_config


def test_migrations_match_the_models(database_url):
    engine = make_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                              "include_name": compared_with_the_models})
        differences = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_the_chain_goes_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    command.upgrade(config, "head")
    command.downgrade(config, "base")
    command.upgrade(config, "head")


def test_customer_words_move_to_the_search_index_and_back(tmp_path):
    import sqlite3

    url = f"sqlite:///{tmp_path / 'words.db'}"
    config = alembic_config(url)
    command.upgrade(config, "deb86b1b3aea")
    words = [(1, "ada", 7), (1, "lovelace", 7), (1, "engines", 7), (1, "grace", 9)]
    with sqlite3.connect(tmp_path / "words.db") as connection:
        _insert_row(connection, "vendor", id=1)
        for customer_id in (7, 9):
            _insert_row(connection, "customer", id=customer_id, vendor_id=1)
        connection.executemany("INSERT INTO customer_search_word (vendor_id, word, customer_id) VALUES (?, ?, ?)",
                               words)
    command.upgrade(config, "head")
    with sqlite3.connect(tmp_path / "words.db") as connection:
        rows = dict(connection.execute("SELECT rowid, words FROM customer_search").fetchall())
        found = connection.execute(
            "SELECT rowid FROM customer_search WHERE customer_search MATCH "
            "'\"0000000001_lov\"* AND \"0000000001_ada\"*'").fetchall()
    assert {key: set(value.split()) for key, value in rows.items()} == {
        7: {"0000000001_ada", "0000000001_lovelace", "0000000001_engines"}, 9: {"0000000001_grace"}}
    assert found == [(7,)]
    command.downgrade(config, "deb86b1b3aea")
    with sqlite3.connect(tmp_path / "words.db") as connection:
        back = connection.execute("SELECT vendor_id, word, customer_id FROM customer_search_word").fetchall()
    assert sorted(back) == sorted(words)


def _insert_row(connection, table: str, **values) -> None:
    """A row with the given values and a plain value of its type in every other required column."""
    for _, name, kind, required, default, _ in connection.execute(f"PRAGMA table_info({table})").fetchall():
        if name not in values and required and default is None:
            kind = kind.upper()
            values[name] = (0 if kind in ("INTEGER", "BOOLEAN") else "2026-01-01 00:00:00.000000"
                            if kind == "DATETIME" else f"{name}-{values['id']}")
    columns = ", ".join(values)
    connection.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(values))})",
                       list(values.values()))


@pytest.fixture
def fresh_database_url(database_url, tmp_path):
    """An empty database of the test run's kind, for a chain run from the start."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    server = make_url(database_url)
    name = f"{server.database}_fresh"
    admin = server.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    yield server.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _add(connection, table: str, **values) -> None:
    """A row with the given values and a plain value of its type in every other required column (any database)."""
    for column in sa.inspect(connection).get_columns(table):
        name = column["name"]
        if name not in values and not column["nullable"] and column["default"] is None:
            kind, length = column["type"].python_type, getattr(column["type"], "length", None)
            values[name] = (datetime(2026, 1, 1, tzinfo=UTC) if kind is datetime else kind() if kind in (int, bool)
                            else f"{name}-{values['id']}"[:length])
    connection.execute(sa.table(table, *(sa.column(name) for name in values)).insert().values(**values))


def test_stripe_records_take_their_vendors_mode_and_come_back_down(fresh_database_url):
    config = alembic_config(fresh_database_url)
    command.upgrade(config, "7d2e5b19a4c6")
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        for vendor_id, livemode in ((1, True), (2, None)):  # a vendor connected with a live key; one never connected
            _add(connection, "vendor", id=vendor_id)
            _add(connection, "customer", id=vendor_id, vendor_id=vendor_id)
            _add(connection, "product", id=vendor_id, vendor_id=vendor_id)
            if livemode is not None:
                _add(connection, "stripe_connection", id=vendor_id, vendor_id=vendor_id, livemode=livemode)
            _add(connection, "stripe_customer", id=vendor_id, vendor_id=vendor_id, customer_id=vendor_id)
            _add(connection, "stripe_price", id=vendor_id, vendor_id=vendor_id, product_id=vendor_id)
            _add(connection, "subscription", id=vendor_id, vendor_id=vendor_id)
    command.upgrade(config, "head")
    with engine.begin() as connection:
        for table in ("stripe_customer", "stripe_price", "subscription"):
            rows = connection.execute(sa.text(f"SELECT vendor_id, livemode, stripe_account_id FROM {table} "
                                              "ORDER BY vendor_id")).all()
            assert [tuple(row) for row in rows] == [(1, True, ""), (2, False, "")], table
        assert connection.execute(sa.text("SELECT stripe_account_id FROM stripe_connection")).scalar_one() == ""
        # One Stripe customer per account and mode: the same customer's live one beside its test one.
        _add(connection, "stripe_customer", id=3, vendor_id=1, customer_id=1, livemode=False)
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        _add(connection, "stripe_customer", id=4, vendor_id=1, customer_id=1, livemode=False)
    command.downgrade(config, "7d2e5b19a4c6")
    with engine.begin() as connection:
        kept = connection.execute(sa.text("SELECT id, customer_id FROM stripe_customer ORDER BY id")).all()
    assert [tuple(row) for row in kept] == [(2, 2), (3, 1)]
    engine.dispose()


def test_trial_keys_learn_their_machine_and_countdown_starts_from_the_machines_on_them(fresh_database_url):
    config = alembic_config(fresh_database_url)
    command.upgrade(config, "45c01476777f")
    engine = make_engine(fresh_database_url)
    with engine.begin() as connection:
        _add(connection, "vendor", id=1)
        _add(connection, "product", id=1, vendor_id=1)
        # Two CreateTrialKey keys of the same machine (the old lookup found either), one of another, and a key
        # made ahead with countdown and no machine yet.
        for key_id, mid, trial in ((1, "m-1", True), (2, "m-1", True), (3, "m-2", True), (4, None, True),
                                   (5, "m-3", False)):
            _add(connection, "license_key", id=key_id, vendor_id=1, product_id=1, key_number=key_id,
                 key=f"KEY-{key_id}", trial_activation=trial, max_no_of_machines=1,
                 notes="Trial key" if key_id < 4 else "")
            if mid:
                _add(connection, "activated_machine", id=key_id, key_id=key_id, mid=mid)
    command.upgrade(config, "head")
    with engine.begin() as connection:
        rows = connection.execute(sa.text("SELECT id, trial_machine, countdown_starts FROM license_key "
                                          "ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [(1, "m-1", 1), (2, None, 1), (3, "m-2", 1), (4, None, 0), (5, None, 0)]
    command.downgrade(config, "45c01476777f")
    engine.dispose()


def test_machine_data_left_by_gone_or_earlier_machines_goes_and_ids_are_not_handed_out_again(fresh_database_url):
    config = alembic_config(fresh_database_url)
    command.upgrade(config, "071fb51aace0")
    engine = make_engine(fresh_database_url)
    sqlite = engine.dialect.name == "sqlite"

    def when(month: int) -> datetime:
        return datetime(2026, month, 1, tzinfo=UTC)

    with engine.begin() as connection:
        _add(connection, "vendor", id=1)
        _add(connection, "product", id=1, vendor_id=1)
        for key_id in (1, 2):
            _add(connection, "license_key", id=key_id, vendor_id=1, product_id=1, key_number=key_id, key=f"K-{key_id}")
        # Bob's machine took, in March, the id of Alice's machine (on key 1), deactivated before.
        _add(connection, "activated_machine", id=1, key_id=2, mid="bob-pc")
        _add(connection, "audit_event", id=1, vendor_id=1, action="key.machine_activated", subject_type="key",
             subject_id=2, after='{"mid": "bob-pc"}', created=when(3))
        _add(connection, "audit_event", id=2, vendor_id=1, action="key.deleted", subject_type="key", subject_id=9)
        for object_id, referencer_type, referencer_id, month in ((1, 3, 1, 2),  # Alice's, found by Bob
                                                                  (2, 3, 1, 4),  # Bob's own
                                                                  (3, 3, 7, 2),  # of a machine gone
                                                                  (4, 2, 1, 2)):  # a key's
            _add(connection, "data_object", id=object_id, vendor_id=1, referencer_type=referencer_type,
                 referencer_id=referencer_id, name=f"object-{object_id}", created=when(month))
    command.upgrade(config, "head")
    with engine.begin() as connection:
        left = [row[0] for row in connection.execute(sa.text("SELECT id FROM data_object ORDER BY id"))]
        assert left == ([2, 4] if sqlite else [1, 2, 4])  # PostgreSQL never gave an id twice: no Alice's there
        assert connection.execute(sa.text("SELECT count(*) FROM activated_machine")).scalar() == 1
        if sqlite:
            tables = dict(connection.execute(sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'table'")).all())
            for table in SQLModel.metadata.sorted_tables:
                if table.dialect_options["sqlite"]["autoincrement"]:
                    assert "AUTOINCREMENT" in tables[table.name], table.name
            # The key deleted as id 9 stays deleted: the next key is 10.
            sequence = sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'license_key'")
            assert connection.execute(sequence).scalar() == 9
    command.downgrade(config, "071fb51aace0")
    engine.dispose()


def test_namesake_live_tokens_are_told_apart_and_a_name_is_one_live_tokens_from_then_on(fresh_database_url):
    config = alembic_config(fresh_database_url)
    command.upgrade(config, "5e8d2c4a7f31")
    engine = make_engine(fresh_database_url)
    revoked = datetime(2026, 1, 2, tzinfo=UTC)
    with engine.begin() as connection:
        for vendor_id in (1, 2):
            _add(connection, "vendor", id=vendor_id)
        # Three live "CI" tokens of vendor 1 (made before the check), a revoked one, and vendor 2's own "CI".
        for token_id, vendor_id, name, revoked_at in ((1, 1, "CI", None), (2, 1, "CI", None), (3, 1, "CI", revoked),
                                                      (4, 1, "CI", None), (5, 2, "CI", None), (6, 1, "x" * 100, None),
                                                      (7, 1, "x" * 100, None)):
            _add(connection, "api_token", id=token_id, vendor_id=vendor_id, name=name, token_hash=f"h{token_id}",
                 revoked_at=revoked_at)
    command.upgrade(config, "head")
    with engine.begin() as connection:
        names = dict(connection.execute(sa.text("SELECT id, name FROM api_token")).all())
    assert names == {1: "CI (#1)", 2: "CI (#2)", 3: "CI", 4: "CI", 5: "CI", 6: "x" * 95 + " (#6)", 7: "x" * 100}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        _add(connection, "api_token", id=8, vendor_id=1, name="CI", token_hash="h8")
    with engine.begin() as connection:  # a revoked token's name is free, and another vendor's
        _add(connection, "api_token", id=9, vendor_id=1, name="CI", token_hash="h9", revoked_at=revoked)
        _add(connection, "api_token", id=10, vendor_id=2, name="CI (#1)", token_hash="h10")
    command.downgrade(config, "5e8d2c4a7f31")
    engine.dispose()
