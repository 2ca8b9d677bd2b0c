"""A product remembers, per data object name of its cryptolens_dobjreset, the day it last set its keys' ones back

Revision ID: d3e5f7a9b1c2
Revises: c2f4a6e8b0d1
Create Date: 2026-12-02 20:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'd3e5f7a9b1c2'
down_revision: str | None = 'c2f4a6e8b0d1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'data_object_reset',
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('last_day', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['product.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('product_id', 'name'),
    )


def downgrade() -> None:
    op.drop_table('data_object_reset')
