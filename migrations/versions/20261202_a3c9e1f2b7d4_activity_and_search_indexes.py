"""The activity page's indexes (a vendor's audit events newest first, whole, by action, by actor), and customers
found by e-mail domain: customer.email_domain (what follows the last @), indexed with the vendor; the expiry
sweep's index also carries renews_on, for the vendor home's count of keys expiring soon

Revision ID: a3c9e1f2b7d4
Revises: 4f1c2a9e7b3d
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a3c9e1f2b7d4'
down_revision: str | None = '4f1c2a9e7b3d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index('ix_audit_event_vendor_created', ['vendor_id', 'created', 'id'], unique=False)
        batch_op.create_index('ix_audit_event_vendor_action', ['vendor_id', 'action', 'created', 'id', 'subject_type'],
                              unique=False)
        batch_op.create_index('ix_audit_event_vendor_actor', ['vendor_id', 'actor', 'created', 'id'], unique=False)

    with op.batch_alter_table('license_key', schema=None) as batch_op:
        batch_op.drop_index('ix_license_key_expiry_sweep')
        batch_op.create_index('ix_license_key_expiry_sweep', ['vendor_id', 'block', 'expires', 'renews_on'],
                              unique=False)

    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_domain', sa.String().with_variant(sa.String(collation='C'), 'postgresql'),
                                      server_default='', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE customer SET email_domain = regexp_replace(email_normalized, '^.*@', '') "
                   "WHERE strpos(email_normalized, '@') > 0")
    else:  # SQLite has no regexp_replace: what follows the first @ (an address with two is quoted, and rare)
        op.execute("UPDATE customer SET email_domain = substr(email_normalized, instr(email_normalized, '@') + 1) "
                   "WHERE instr(email_normalized, '@') > 0")
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index('ix_customer_vendor_email_domain', ['vendor_id', 'email_domain', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_vendor_email_domain')
        batch_op.drop_column('email_domain')
    with op.batch_alter_table('license_key', schema=None) as batch_op:
        batch_op.drop_index('ix_license_key_expiry_sweep')
        batch_op.create_index('ix_license_key_expiry_sweep', ['vendor_id', 'block', 'expires'], unique=False)
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_vendor_actor')
        batch_op.drop_index('ix_audit_event_vendor_action')
        batch_op.drop_index('ix_audit_event_vendor_created')
