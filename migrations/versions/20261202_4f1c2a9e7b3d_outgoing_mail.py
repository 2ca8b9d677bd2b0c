"""Outgoing mail kept in the database until sent: a killed job consumer loses no mail (the sweep sends it)

Revision ID: 4f1c2a9e7b3d
Revises: 5cd88331abe3
Create Date: 2026-12-02 06:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portal.columns


revision: str = '4f1c2a9e7b3d'
down_revision: str | None = '5cd88331abe3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outgoing_mail',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('template', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('context', sa.Text(), nullable=False),
    sa.Column('created', portal.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', portal.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', portal.columns.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoing_mail_sent_at'), ['sent_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outgoing_mail', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoing_mail_sent_at'))
    op.drop_table('outgoing_mail')
