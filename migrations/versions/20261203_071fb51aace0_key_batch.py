"""A key remembers the bulk creation that made it (`batch = 12` in the key search), so that a batch's page can
show and export exactly its keys; keys made before stay without one

Revision ID: 071fb51aace0
Revises: d3e5f7a9b1c2
Create Date: 2026-12-03 13:17:35.973275
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '071fb51aace0'
down_revision: str | None = 'd3e5f7a9b1c2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOREIGN_KEY = 'license_key_batch_id_fkey'  # the name PostgreSQL gives the model's constraint
INDEX = 'ix_license_key_product_batch'


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # Without blocking writes to license_key for a table scan: the constraint is checked after it is added
        # (VALIDATE takes a lock that lets writes go on), and the index is built concurrently, outside a transaction.
        op.add_column('license_key', sa.Column('batch_id', sa.Integer(), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, 'license_key', 'key_batch', ['batch_id'], ['id'], ondelete='SET NULL',
                              postgresql_not_valid=True)
        op.execute(f'ALTER TABLE license_key VALIDATE CONSTRAINT {FOREIGN_KEY}')
        with op.get_context().autocommit_block():
            op.create_index(INDEX, 'license_key', ['product_id', 'batch_id', 'key_number'],
                            postgresql_concurrently=True)
        return
    # SQLite: batch mode copies the table to add the constraint (an inline REFERENCES added in place would be read
    # back without its ON DELETE).
    with op.batch_alter_table('license_key', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(FOREIGN_KEY, 'key_batch', ['batch_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index(INDEX, ['product_id', 'batch_id', 'key_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('license_key', schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.drop_constraint(FOREIGN_KEY, type_='foreignkey')
        batch_op.drop_column('batch_id')
