"""When Stripe was last told a subscription's key: a later read that names another key names one the vendor's own
code set (Cryptolens' custom interface), which the subscription takes in place of the portal's own

Revision ID: b7d2f4a6c8e1
Revises: 8a1c3e5b7d90
Create Date: 2026-12-05 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.columns

revision: str = 'b7d2f4a6c8e1'
down_revision: str | None = '8a1c3e5b7d90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # None for the keys written before: their names are taken from the next write-back on.
    with op.batch_alter_table('subscription') as batch:
        batch.add_column(sa.Column('key_written_at', portal.columns.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('subscription') as batch:
        batch.drop_column('key_written_at')
