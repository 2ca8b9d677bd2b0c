"""The customers' name words, indexed so that a customer matches when each word of a query starts a word of its
name or company.

Each database gets the index it answers fastest at scale (bench/RESULTS.md has the figures):

- SQLite: an FTS5 table, one row per customer (the row id is the customer's id) holding its words, each
  prefixed with its vendor. FTS5 intersects the words' lists of customers itself, newest first, with prefix
  indexes for short prefixes, where intersecting B-tree ranges would walk each word's whole range.
- PostgreSQL: a B-tree of (vendor, word, customer), one row per word, carrying the customer's words. It answers
  from the index alone; a GIN index collects every entry of a prefix before intersecting, and has to visit the
  table for each match.

Both tables live outside the models' metadata (SQLite's is a virtual table): the migration
`customer_search_index` makes them, this module keeps them in step with the customers, and the schema comparison
leaves out the names SEARCH_TABLES matches.
"""

import re
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import Session

FTS_TABLE, WORD_TABLE = "customer_search", "customer_search_word"
# The tables and, on SQLite, FTS5's shadow tables (customer_search_data, _idx, _content, _docsize, _config).
SEARCH_TABLES = re.compile(r"^customer_search(_(data|idx|content|docsize|config|word))?$")
_WORD = re.compile(r"\w+", re.UNICODE)
WORD_MAX = 100


def words_of(*texts: str) -> list[str]:
    """The distinct lowercased words of the texts, in order of first appearance."""
    return list(dict.fromkeys(word[:WORD_MAX] for text in texts for word in _WORD.findall(text.lower())))


def compared_with_the_models(name: str | None, type_: str, _parent_names) -> bool:
    """Alembic's `include_name`: the schema comparison leaves out the search tables, which no model has."""
    return not (type_ == "table" and name is not None and SEARCH_TABLES.match(name))


# Makes a branch of the search: the newest `limit` ids of a select of ids, ordered by the given column.
Newest = Callable[[sa.Select, sa.ColumnElement], sa.Select]


class _Index:
    """Writing a customer's rows (`_rows`) into `table` through `_insert`, and deleting them through `_delete`."""

    _insert: sa.Insert
    _delete: sa.Delete

    def _rows(self, customer, words: list[str]) -> list[dict]:
        raise NotImplementedError

    def write(self, session: Session, customer, words: list[str]) -> None:
        self.forget(session, customer.id)
        rows = self._rows(customer, words)
        if rows:
            session.execute(self._insert, rows)

    def forget(self, session: Session, customer_id: int) -> None:
        session.execute(self._delete, {"customer_id": customer_id})


def _vendor_part(vendor_id: int) -> str:
    """What starts each of a vendor's words in the FTS5 table: its id in ten digits and `_` (ID_MAX has ten)."""
    return f"{vendor_id:010d}_"


class _Fts5(_Index):
    """SQLite: `customer_search(words)`, FTS5, row id = customer id.

    Each word is stored after its vendor's part (`0000000042_paul`), so a vendor's words are terms of their own:
    a search reads only that vendor's lists, however many customers other vendors have, and the prefix indexes
    (11 + 1 to 4 characters) serve its short prefixes.
    """

    table = sa.table(FTS_TABLE, sa.column("rowid"), sa.column("words"))
    _insert = table.insert().values(rowid=sa.bindparam("customer_id"), words=sa.bindparam("words"))
    _delete = table.delete().where(table.c.rowid == sa.bindparam("customer_id"))

    def _rows(self, customer, words: list[str]) -> list[dict]:
        vendor = _vendor_part(customer.vendor_id)
        return [{"customer_id": customer.id, "words": " ".join(vendor + word for word in words)}] if words else []

    def bind(self, words: list[str], params: dict) -> tuple:
        # Every word is the start of one of the vendor's words. Words are `\w+`, which holds no double quote:
        # quoting is all the escaping they need, and FTS5's operators (AND, NEAR, …) in a query are plain words.
        vendor = _vendor_part(params["vendor_id"])
        params["words_query"] = " AND ".join(f'"{vendor}{word}"*' for word in words)
        return ()

    def newest_matching(self, _shape: tuple, newest: Newest) -> sa.Select:
        table = self.table
        return newest(sa.select(table.c.rowid).where(table.c.words.op("MATCH")(sa.bindparam("words_query"))),
                      table.c.rowid)


class _WordTable(_Index):
    """PostgreSQL: `customer_search_word(vendor_id, word, customer_id, words)`, one row per word of a customer, its
    primary key a B-tree in that order that also carries `words`, all of the customer's words (INCLUDE).

    A query of several words walks the range of one of them, the longest (more letters, fewer customers), index
    only, and checks the others in `words`, which costs less than intersecting the ranges of all of them.
    """

    table = sa.table(WORD_TABLE, sa.column("vendor_id"), sa.column("word"), sa.column("customer_id"),
                     sa.column("words"))
    _insert = table.insert().values(vendor_id=sa.bindparam("vendor_id"), word=sa.bindparam("word"),
                                    customer_id=sa.bindparam("customer_id"), words=sa.bindparam("words"))
    _delete = table.delete().where(table.c.customer_id == sa.bindparam("customer_id"))

    def _rows(self, customer, words: list[str]) -> list[dict]:
        every = " ".join(words)
        return [{"vendor_id": customer.vendor_id, "word": word, "customer_id": customer.id, "words": every}
                for word in words]

    def bind(self, words: list[str], params: dict) -> tuple:
        # The longest word leads (the last of equals); each other one must start a word of `words`.
        lead = max(range(len(words)), key=lambda n: (len(words[n]), n))
        others = [word for n, word in enumerate(words) if n != lead]
        for n, word in enumerate(others):
            params[f"word_start{n}"] = " " + word
        return prefix_params(params, "word", words[lead]), len(others)

    def newest_matching(self, shape: tuple, newest: Newest) -> sa.Select:
        bounded, others = shape
        word = self.table.c
        spaced = sa.literal(" ") + word.words
        matches = sa.select(word.customer_id).where(
            word.vendor_id == sa.bindparam("vendor_id"), prefix_range(word.word, "word", bounded),
            *(sa.func.strpos(spaced, sa.bindparam(f"word_start{n}")) > 0 for n in range(others)))
        # A customer with two words of the leading prefix is one match.
        return newest(matches.distinct(), word.customer_id)


def prefix_params(params: dict, name: str, prefix: str) -> bool:
    """Set the bounds of the strings that start with `prefix`; whether there is an upper one."""
    params[f"{name}_from"] = prefix
    if ord(prefix[-1]) >= 0x10FFFF:
        return False
    params[f"{name}_to"] = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return True


def prefix_range(column, name: str, bounded: bool):
    """`column` starts with the prefix `name` (see prefix_params), as a range that a plain B-tree index serves."""
    if not bounded:
        return column >= sa.bindparam(f"{name}_from")
    return (column >= sa.bindparam(f"{name}_from")) & (column < sa.bindparam(f"{name}_to"))


_INDEXES = {"sqlite": _Fts5(), "postgresql": _WordTable()}


def index_for(dialect_name: str) -> _Fts5 | _WordTable:
    return _INDEXES[dialect_name]


def index_customer(session: Session, customer) -> None:
    """Write the customer's words (name and company), replacing any it had."""
    index_for(session.get_bind().dialect.name).write(session, customer, words_of(customer.name,
                                                                                  customer.company_name))


def forget_customer(session: Session, customer_id: int) -> None:
    index_for(session.get_bind().dialect.name).forget(session, customer_id)
