"""Pending logins: a sign-up or an association's new login waits for its mailed link before anything is made

Revision ID: 3f8d2c6a9e71
Revises: 7c1e5a9b2d40
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import portal.models

revision: str = '3f8d2c6a9e71'
down_revision: str | None = '7c1e5a9b2d40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pending_login",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("association_code_encrypted", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("company_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created", portal.models.UTCDateTime(), nullable=False),
        sa.Column("expires_at", portal.models.UTCDateTime(), nullable=False),
        sa.Column("used_at", portal.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["vendor_id"], ["vendor.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_pending_login_customer_id", "pending_login", ["customer_id"])
    op.create_index("ix_pending_login_vendor_id", "pending_login", ["vendor_id"])
    op.create_index("ix_pending_login_expires_at", "pending_login", ["expires_at"])


def downgrade() -> None:
    op.drop_table("pending_login")
