"""key/CreateTrialKey keeps the machine code a trial key was made for, unique per product, so that the machine's
trial is found again once deactivated; trial keys made before learn it from their machine

Revision ID: c2f4a6e8b0d1
Revises: b5e8d0c4a1f7
Create Date: 2026-12-02 14:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c2f4a6e8b0d1'
down_revision: str | None = 'b5e8d0c4a1f7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('license_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trial_machine', sa.String(length=200), nullable=True))
    # A key made by key/CreateTrialKey: a trial for one machine, noted "Trial key"; the oldest of a product's trial
    # keys on a machine keeps it (the lookup found any one of them).
    op.execute(
        "UPDATE license_key SET trial_machine = (SELECT min(activated_machine.mid) FROM activated_machine "
        "WHERE activated_machine.key_id = license_key.id) "
        "WHERE trial_activation AND max_no_of_machines = 1 AND notes = 'Trial key' AND NOT EXISTS ("
        "SELECT 1 FROM license_key AS older JOIN activated_machine AS theirs ON theirs.key_id = older.id "
        "JOIN activated_machine AS mine ON mine.key_id = license_key.id AND mine.mid = theirs.mid "
        "WHERE older.product_id = license_key.product_id AND older.id < license_key.id "
        "AND older.trial_activation AND older.notes = 'Trial key')")
    # A unique index rather than a constraint: SQLite adds it without rebuilding the table.
    op.create_index('uq_license_key_product_trial_machine', 'license_key', ['product_id', 'trial_machine'],
                    unique=True)


def downgrade() -> None:
    op.drop_index('uq_license_key_product_trial_machine', table_name='license_key')
    with op.batch_alter_table('license_key', schema=None) as batch_op:
        batch_op.drop_column('trial_machine')
