"""A key's and an activated machine's id are never handed out twice on SQLite (AUTOINCREMENT), and data objects
left by machines already gone are removed: a machine's data objects went nowhere when it was deactivated, and on
SQLite the next activation, on any key of the vendor, could take its id and find them

Revision ID: 5e8d2c4a7f31
Revises: 071fb51aace0
Create Date: 2026-12-03 17:20:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e8d2c4a7f31'
down_revision: str | None = '071fb51aace0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('license_key', 'activated_machine')
MACHINE = 3  # portal.dataobjects.services.MACHINE (a migration keeps its own copy of what it relies on)
_DATA = sa.table('data_object', sa.column('id', sa.Integer), sa.column('referencer_type', sa.Integer),
                 sa.column('referencer_id', sa.Integer), sa.column('created', sa.DateTime))
_MACHINES = sa.table('activated_machine', sa.column('id', sa.Integer), sa.column('key_id', sa.Integer),
                     sa.column('mid', sa.String))
_AUDIT = sa.table('audit_event', sa.column('action', sa.String), sa.column('subject_type', sa.String),
                  sa.column('subject_id', sa.Integer), sa.column('after', sa.Text), sa.column('created', sa.DateTime))


def _remove_orphans() -> None:
    """The data objects of machines gone (their id names no machine now)."""
    op.execute(_DATA.delete().where(_DATA.c.referencer_type == MACHINE,
                                    _DATA.c.referencer_id.not_in(sa.select(_MACHINES.c.id))))


def _remove_inherited() -> None:
    """On SQLite, a machine may have been given the id of one deactivated before it, and found that one's data
    objects: those older than the machine (made when the audit trail's newest activation of its key and code says)
    were not its own."""
    connection = op.get_bind()
    found = connection.execute(sa.select(_DATA.c.id, _DATA.c.created, _MACHINES.c.key_id, _MACHINES.c.mid)
                               .join(_MACHINES, _MACHINES.c.id == _DATA.c.referencer_id)
                               .where(_DATA.c.referencer_type == MACHINE)).all()
    inherited = []
    for object_id, created, key_id, mid in found:
        activations = connection.execute(sa.select(_AUDIT.c.created, _AUDIT.c.after).where(
            _AUDIT.c.subject_type == 'key', _AUDIT.c.subject_id == key_id,
            _AUDIT.c.action == 'key.machine_activated')).all()
        made = max((when for when, after in activations if json.loads(after or '{}').get('mid') == mid), default=None)
        if made is not None and created < made:
            inherited.append(object_id)
    for start in range(0, len(inherited), 500):
        op.execute(_DATA.delete().where(_DATA.c.id.in_(inherited[start:start + 500])))


def _never_again_the_deleted_keys() -> None:
    """AUTOINCREMENT goes on from the highest id there is; a key deleted above it (its GlobalId may still be in
    Stripe's metadata or a vendor's software) is named in the audit trail: the count goes on from there."""
    highest = op.get_bind().execute(sa.select(sa.func.max(_AUDIT.c.subject_id))
                                    .where(_AUDIT.c.subject_type == 'key')).scalar()
    if highest:
        op.execute(sa.text("UPDATE sqlite_sequence SET seq = :highest WHERE name = 'license_key' AND seq < :highest")
                   .bindparams(highest=highest))
        op.execute(sa.text("INSERT INTO sqlite_sequence (name, seq) SELECT 'license_key', :highest WHERE NOT EXISTS "
                           "(SELECT 1 FROM sqlite_sequence WHERE name = 'license_key')").bindparams(highest=highest))


def upgrade() -> None:
    _remove_orphans()
    if op.get_bind().dialect.name != 'sqlite':
        return  # PostgreSQL's sequences never hand an id out twice
    _remove_inherited()
    for table in TABLES:  # a rebuild is SQLite's only way to add AUTOINCREMENT (env.py turns foreign keys off)
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': True}):
            pass
    _never_again_the_deleted_keys()


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        with op.batch_alter_table(table, recreate='always', table_kwargs={'sqlite_autoincrement': False}):
            pass
