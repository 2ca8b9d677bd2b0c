"""A vendor's live API tokens have names of their own, held by a unique index over the unrevoked ones, not only by a
check before the insert (two requests at one moment could pass the check together)

Revision ID: 8a1c3e5b7d90
Revises: 5e8d2c4a7f31
Create Date: 2026-12-05 03:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8a1c3e5b7d90'
down_revision: str | None = '5e8d2c4a7f31'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME_MAX = 100  # portal.models.NAME_MAX (a migration keeps its own copy of what it relies on)
_LIVE = sa.text("revoked_at IS NULL")
_TOKENS = sa.table('api_token', sa.column('id', sa.Integer), sa.column('vendor_id', sa.Integer),
                   sa.column('name', sa.String), sa.column('revoked_at', sa.DateTime))


def _rename_older_namesakes() -> None:
    """Live tokens made before the check, sharing a name: the newest keeps it, each older one is renamed "<name>
    (#<id>)" (what they call is unchanged; the vendor sees both on the tokens page)."""
    connection = op.get_bind()
    rows = connection.execute(sa.select(_TOKENS.c.id, _TOKENS.c.vendor_id, _TOKENS.c.name)
                              .where(_TOKENS.c.revoked_at.is_(None)).order_by(_TOKENS.c.id.desc())).all()
    seen = set()
    for token_id, vendor_id, name in rows:
        if (vendor_id, name) in seen:
            suffix = f" (#{token_id})"
            connection.execute(_TOKENS.update().where(_TOKENS.c.id == token_id)
                               .values(name=name[:NAME_MAX - len(suffix)] + suffix))
        seen.add((vendor_id, name))


def upgrade() -> None:
    _rename_older_namesakes()
    op.create_index('uq_api_token_live_name', 'api_token', ['vendor_id', 'name'], unique=True,
                    sqlite_where=_LIVE, postgresql_where=_LIVE)


def downgrade() -> None:
    op.drop_index('uq_api_token_live_name', table_name='api_token', sqlite_where=_LIVE, postgresql_where=_LIVE)
