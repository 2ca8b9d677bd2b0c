"""The activity page's indexes: a vendor's audit events newest first, whole, by action and by actor

Revision ID: a3c9e1f2b7d4
Revises: cb80da3a7bd8
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'a3c9e1f2b7d4'
down_revision: str | None = 'cb80da3a7bd8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_vendor_created', ['vendor_id', 'created', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_vendor_action', ['vendor_id', 'action', 'created', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_vendor_actor', ['vendor_id', 'actor', 'created', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_vendor_actor')
        batch_op.drop_index('ix_audit_event_vendor_action')
        batch_op.drop_index('ix_audit_event_vendor_created')
