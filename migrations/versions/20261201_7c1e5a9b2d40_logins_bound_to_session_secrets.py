"""A login is bound to a random session secret, not a counter; login and customer ids are never reused on SQLite

A cookie named its login as (id, session_version). SQLite reuses the highest id after a delete, and every login
started at version 1, so the cookie of a removed login opened the next login made. The secret is drawn at random
for each login and drawn again to end its sessions; AUTOINCREMENT keeps SQLite from handing out an id twice
(PostgreSQL's sequences never do).

Revision ID: 7c1e5a9b2d40
Revises: e2698131a845
Create Date: 2026-12-01 23:10:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c1e5a9b2d40'
down_revision: str | None = 'e2698131a845'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LOGINS = ("vendor_user", "portal_account")
NEVER_REUSED = (*LOGINS, "customer")


def _recreate(table: str, *, autoincrement: bool):
    """On SQLite, the table made again with or without AUTOINCREMENT (a rebuild is the only way to change it)."""
    return op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement})


def _fill_secrets(table: str) -> None:
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column("session_secret", sa.String))
    connection = op.get_bind()
    for (row_id,) in connection.execute(sa.select(rows.c.id)).all():
        connection.execute(rows.update().where(rows.c.id == row_id).values(session_secret=secrets.token_urlsafe(32)))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in NEVER_REUSED:
        if sqlite:
            with _recreate(table, autoincrement=True) as batch:
                if table in LOGINS:
                    batch.add_column(sa.Column("session_secret", sa.String(length=64), nullable=True))
        elif table in LOGINS:
            op.add_column(table, sa.Column("session_secret", sa.String(length=64), nullable=True))
    for table in LOGINS:
        _fill_secrets(table)
        # On SQLite a batch rebuilds the table, so it says AUTOINCREMENT again.
        with _recreate(table, autoincrement=True) if sqlite else op.batch_alter_table(table) as batch:
            batch.alter_column("session_secret", existing_type=sa.String(length=64), nullable=False)
            batch.drop_column("session_version")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in LOGINS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"))
            batch.drop_column("session_secret")
    if sqlite:
        for table in NEVER_REUSED:
            with _recreate(table, autoincrement=False):
                pass
