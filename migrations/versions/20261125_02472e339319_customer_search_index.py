"""customer name words in an FTS5 table on SQLite (PostgreSQL keeps its B-tree word table)

Revision ID: 02472e339319
Revises: deb86b1b3aea
Create Date: 2026-11-25 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

TABLE = "customer_search"
# One row per customer, its row id the customer's id; each word lowercased and prefixed with its vendor's id in
# ten digits and `_` (`0000000042_paul`), so each vendor's words are terms of their own. unicode61 keeps `_` in a
# word as Python's `\w` does, and diacritics as they are. Prefix indexes of the vendor part and 1 to 4
# characters make a short prefix query read one list instead of merging every word it starts.
SQLITE_DDL = (f"CREATE VIRTUAL TABLE {TABLE} USING fts5(words, prefix = '12 13 14 15', "
              "tokenize = \"unicode61 remove_diacritics 0 tokenchars '_'\")")
VENDOR_PART = 11  # characters: ten digits and `_`

revision: str = '02472e339319'
down_revision: str | None = 'deb86b1b3aea'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(SQLITE_DDL)
    op.execute(f"""INSERT INTO {TABLE} (rowid, words)
                   SELECT customer_id, group_concat(printf('%010d_', vendor_id) || word, ' ')
                   FROM customer_search_word GROUP BY customer_id""")
    with op.batch_alter_table('customer_search_word', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_search_word_customer_id'))
    op.drop_table('customer_search_word')


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    op.create_table('customer_search_word',
    sa.Column('vendor_id', sa.Integer(), nullable=False),
    sa.Column('word', sa.String(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['vendor_id'], ['vendor.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('vendor_id', 'word', 'customer_id')
    )
    with op.batch_alter_table('customer_search_word', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_search_word_customer_id'), ['customer_id'], unique=False)
    rows = connection.execute(sa.text(f"SELECT rowid, words FROM {TABLE}")).all()
    words = [{"vendor_id": int(token[:VENDOR_PART - 1]), "word": token[VENDOR_PART:], "customer_id": customer_id}
             for customer_id, text in rows for token in text.split(" ")]
    if words:
        connection.execute(sa.text("INSERT INTO customer_search_word (vendor_id, word, customer_id) "
                                   "VALUES (:vendor_id, :word, :customer_id)"), words)
    op.execute(f"DROP TABLE {TABLE}")
