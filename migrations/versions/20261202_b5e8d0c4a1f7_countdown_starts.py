"""Keys count down from activation: how many machines have started a key's countdown (deactivated ones included);
a trial key already activated has been started by its machines

Revision ID: b5e8d0c4a1f7
Revises: 45c01476777f
Create Date: 2026-12-02 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b5e8d0c4a1f7'
down_revision: str | None = '45c01476777f'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('license_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('countdown_starts', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE license_key SET countdown_starts = (SELECT count(*) FROM activated_machine "
               "WHERE activated_machine.key_id = license_key.id) WHERE trial_activation")


def downgrade() -> None:
    with op.batch_alter_table('license_key', schema=None) as batch_op:
        batch_op.drop_column('countdown_starts')
