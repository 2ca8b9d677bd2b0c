"""Stripe records belong to a Stripe account and mode: the connection keeps its account id (acct_…); prices,
Stripe customers and subscriptions keep the account id and `livemode` they were read in; a customer has one Stripe
customer per account and mode. Existing records take the mode of their vendor's connection (test mode without
one) and an unknown account (""), which the connection's account becomes once the portal reads it.

Revision ID: 45c01476777f
Revises: 7d2e5b19a4c6
Create Date: 2026-12-02 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = '45c01476777f'
down_revision: str | None = '7d2e5b19a4c6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPED = ('stripe_price', 'stripe_customer', 'subscription')
# SQLite keeps the unique constraint on stripe_customer.customer_id unnamed: batch mode names it by this convention.
NAMED = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _account_id_column() -> sa.Column:
    return sa.Column('stripe_account_id', sqlmodel.sql.sqltypes.AutoString(length=255), server_default='',
                     nullable=False)


def _old_customer_constraint() -> str:
    return ('stripe_customer_customer_id_key' if op.get_bind().dialect.name == 'postgresql'
            else 'uq_stripe_customer_customer_id')


def upgrade() -> None:
    with op.batch_alter_table('stripe_connection', schema=None) as batch_op:
        batch_op.add_column(_account_id_column())
    connection = sa.table('stripe_connection', sa.column('vendor_id', sa.Integer),
                          sa.column('livemode', sa.Boolean))
    for name in SCOPED:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('livemode', sa.Boolean(), server_default=sa.false(), nullable=False))
            batch_op.add_column(_account_id_column())
        records = sa.table(name, sa.column('vendor_id', sa.Integer), sa.column('livemode', sa.Boolean))
        vendors_mode = sa.select(connection.c.livemode).where(connection.c.vendor_id == records.c.vendor_id)
        op.execute(records.update().values(livemode=sa.func.coalesce(vendors_mode.scalar_subquery(), sa.false())))
    with op.batch_alter_table('stripe_customer', schema=None, naming_convention=NAMED) as batch_op:
        batch_op.drop_constraint(_old_customer_constraint(), type_='unique')
        batch_op.create_unique_constraint('uq_stripe_customer_scope', ['customer_id', 'livemode', 'stripe_account_id'])
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_vendor_status')
        batch_op.create_index('ix_subscription_vendor_scope_status',
                              ['vendor_id', 'livemode', 'stripe_account_id', 'status', 'id'], unique=False)


def downgrade() -> None:
    # One Stripe customer per customer again: the newest of each customer's stays (the others' ids are forgotten
    # here; Stripe keeps those customers).
    newest = sa.text("DELETE FROM stripe_customer WHERE id NOT IN "
                     "(SELECT MAX(id) FROM stripe_customer GROUP BY customer_id)")
    op.execute(newest)
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index('ix_subscription_vendor_scope_status')
        batch_op.create_index('ix_subscription_vendor_status', ['vendor_id', 'status', 'id'], unique=False)
    with op.batch_alter_table('stripe_customer', schema=None, naming_convention=NAMED) as batch_op:
        batch_op.drop_constraint('uq_stripe_customer_scope', type_='unique')
        batch_op.create_unique_constraint(_old_customer_constraint(), ['customer_id'])
    for name in SCOPED:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_column('stripe_account_id')
            batch_op.drop_column('livemode')
    with op.batch_alter_table('stripe_connection', schema=None) as batch_op:
        batch_op.drop_column('stripe_account_id')
