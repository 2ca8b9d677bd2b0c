"""Login requests kept in the request's transaction: a pending login waits without a token until its job mails
it (token_hash nullable), with the pages its mail links to and when its job was queued (for the sweep)

Revision ID: 7d2e5b19a4c6
Revises: 4b7e2a91c3d5
Create Date: 2026-12-02 09:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import portal.columns


revision: str = '7d2e5b19a4c6'
down_revision: str | None = '4b7e2a91c3d5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pending_login', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pages', sa.Text(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('queued_at', portal.columns.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column('token_hash', existing_type=sa.String(length=64), nullable=True)
    op.execute("UPDATE pending_login SET queued_at = created")
    with op.batch_alter_table('pending_login', schema=None) as batch_op:
        batch_op.alter_column('queued_at', existing_type=portal.columns.UTCDateTime(timezone=True), nullable=False)


def downgrade() -> None:
    # Requests still waiting for their job have no token to keep: they go.
    op.execute("DELETE FROM pending_login WHERE token_hash IS NULL")
    with op.batch_alter_table('pending_login', schema=None) as batch_op:
        batch_op.alter_column('token_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('queued_at')
        batch_op.drop_column('pages')
