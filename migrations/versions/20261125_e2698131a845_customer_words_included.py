"""PostgreSQL: each customer word row carries all of the customer's words, in its primary key's B-tree

Revision ID: e2698131a845
Revises: 02472e339319
Create Date: 2026-11-25 19:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'e2698131a845'
down_revision: str | None = '02472e339319'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite searches its FTS5 table
    op.execute("ALTER TABLE customer_search_word ADD COLUMN words text NOT NULL DEFAULT ''")
    op.execute("""UPDATE customer_search_word AS row SET words = every.words
                  FROM (SELECT customer_id, string_agg(word, ' ') AS words FROM customer_search_word
                        GROUP BY customer_id) AS every
                  WHERE every.customer_id = row.customer_id""")
    op.execute("ALTER TABLE customer_search_word ALTER COLUMN words DROP DEFAULT")
    # A multi-word search walks one word's range index only and checks the others in `words`.
    op.execute("ALTER TABLE customer_search_word DROP CONSTRAINT customer_search_word_pkey")
    op.execute("ALTER TABLE customer_search_word ADD CONSTRAINT customer_search_word_pkey "
               "PRIMARY KEY (vendor_id, word, customer_id) INCLUDE (words)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE customer_search_word DROP CONSTRAINT customer_search_word_pkey")
    op.execute("ALTER TABLE customer_search_word ADD CONSTRAINT customer_search_word_pkey "
               "PRIMARY KEY (vendor_id, word, customer_id)")
    op.execute("ALTER TABLE customer_search_word DROP COLUMN words")
