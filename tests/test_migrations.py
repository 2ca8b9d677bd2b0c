"""The Alembic chain and the models describe the same schema, on SQLite and on PostgreSQL."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
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
