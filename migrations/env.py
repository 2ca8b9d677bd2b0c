"""Alembic environment: the schema is `SQLModel.metadata`, the database is the app's DATABASE_URL."""

from alembic import context
from sqlmodel import SQLModel

import portal.api_models  # noqa: F401 - registers the Web API's tables on SQLModel.metadata
import portal.billing_models  # noqa: F401 - registers the Stripe tables on SQLModel.metadata
import portal.models  # noqa: F401 - registers the tables on SQLModel.metadata
from portal.customer_search.index import compared_with_the_models
from portal.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def database_url() -> str:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from portal import create_app

    return create_app().config["DATABASE_URL"]


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      compare_type=True, render_as_batch=True, include_name=compared_with_the_models)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Batch mode rebuilds a table by dropping the old one; with foreign keys on, the drop would cascade and
        # delete the child rows. The pragma only works outside a transaction, so it goes to the driver directly.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True,
                      render_as_batch=sqlite, include_name=compared_with_the_models)
    with context.begin_transaction():
        context.run_migrations()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.rollback()
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"the migration left rows that break foreign keys: {broken[:5]}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
