"""A key's and an activated machine's id are never handed out twice on SQLite (AUTOINCREMENT), and data objects
left by machines already gone are removed: a machine's data objects went nowhere when it was deactivated, and on
SQLite the next activation, on any key of the vendor, could take its id and find them

Revision ID: 5e8d2c4a7f31
Revises: 071fb51aace0
Create Date: 2026-12-03 17:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e8d2c4a7f31'
down_revision: str | None = '071fb51aace0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('license_key', 'activated_machine')
MACHINE = 3  # portal.dataobjects.services.MACHINE (a migration keeps its own copy of what it relies on)


def _remove_orphans() -> None:
    data_object = sa.table('data_object', sa.column('referencer_type', sa.Integer),
                           sa.column('referencer_id', sa.Integer))
    machine = sa.table('activated_machine', sa.column('id', sa.Integer))
    op.execute(data_object.delete().where(data_object.c.referencer_type == MACHINE,
                                          data_object.c.referencer_id.not_in(sa.select(machine.c.id))))


def upgrade() -> None:
    _remove_orphans()
    if op.get_bind().dialect.name != 'sqlite':
        return  # PostgreSQL's sequences never hand an id out twice
    for table in TABLES:  # a rebuild is SQLite's only way to add AUTOINCREMENT (env.py turns foreign keys off)
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': False}):
            pass
