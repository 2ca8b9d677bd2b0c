"""The product page's key search: the query plan per query shape, keyset pages, and the CSV export."""

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import Column, bindparam, func, true, union
from sqlalchemy import select as core_select
from sqlalchemy.sql.util import ClauseAdapter
from sqlalchemy.sql.visitors import iterate
from sqlmodel import Session

from portal.keys.query import (
    And,
    Comparison,
    Everything,
    Node,
    Or,
    QueryError,
    Shape,
    condition_of,
    key_filter,
    parse,
    shape_of,
    today_of,
)
from portal.keys.query.sql import COLUMNS
from portal.models import FEATURES, Customer, LicenseKey, Product, utcnow


@dataclass
class KeyPage:
    keys: list  # rows of every license_key column and the customer's name, e-mail and company, read by name
    customers: dict  # the keys' customers by id: CustomerRef(id, name, email, company_name)
    next_before: int | None


def search_keys(session: Session, *, product: Product, query: str = "", before: int | None = None,
                limit: int = 25, now: datetime | None = None) -> KeyPage:
    """The product's keys matching the search language, newest ID first, by keyset (`ID < before`)."""
    statement, params = _key_search(product_id=product.id, query=query, before=before, limit=limit + 1,
                                     now=now or utcnow())
    # Plain rows, not ORM entities: the page and the export only read them.
    rows = session.connection().execute(statement, params).all()
    keys = rows[:limit]
    customers = {key.customer_id: CustomerRef(key.customer_id, key.customer_name, key.customer_email,
                                              key.customer_company_name)
                 for key in keys if key.customer_id is not None}
    return KeyPage(keys=keys, customers=customers, next_before=keys[-1].key_number if len(rows) > limit else None)


class CustomerRef(NamedTuple):
    """What a key list shows of a key's customer."""

    id: int
    name: str
    email: str
    company_name: str


# How many of the newest keys the product page walks before it looks for the matches through the filter's index.
RECENT_KEYS = 1000
_KEYS = LicenseKey.__table__
_CUSTOMERS = Customer.__table__


def key_search_statement(*, product_id: int, query: str, before: int | None, limit: int, now: datetime):
    """The SQL behind the product page, with this query's values bound (the page binds them when it runs)."""
    statement, params = _key_search(product_id=product_id, query=query, before=before, limit=limit, now=now)
    return statement.params(params)


def _key_search(*, product_id: int, query: str, before: int | None, limit: int, now: datetime):
    """The statement for the query's shape and the values of its parameters."""
    node = parse(query)
    shape, values = shape_of(node, today=today_of(now))
    statement = _search_statement(shape, _served_by_an_index(node), before is not None, limit)
    return statement, {"product_id": product_id, "before": before, **values}


@lru_cache(maxsize=256)
def _search_statement(shape: Shape, served_by_an_index: bool, keyset: bool, limit: int):
    """The newest `limit` keys below `before` that match a query of this shape.

    Made once per shape, with bind parameters for the values: building a statement (and its cache key) costs more
    than running it, and the same statement object lets SQLAlchemy reuse its compiled form.

    Searches an index serves (`id=`, `key=`, `customer=`) are one plain query. Any other filter is looked for
    two ways, so that neither can take long: among the newest RECENT_KEYS keys in ID order (quick when matches
    are many and recent), and only when that finds fewer than `limit`, through the filter's own index, all
    matches sorted (quick when matches are few). Given a single ORDER BY … LIMIT, a planner assumes matches are
    spread evenly over the IDs, and on `expires < …`, which selects the oldest keys, walked all of them.
    """
    condition = condition_of(shape)
    key = _KEYS.c
    keyset_where = [key.product_id == bindparam("product_id")]
    if keyset:
        keyset_where.append(key.key_number < bindparam("before"))
    newest_first = key.key_number.desc()
    # Each key with its customer's name, e-mail and company (a key's customer is always the product vendor's).
    customer = _CUSTOMERS.c
    keys_with_customers = (core_select(_KEYS, customer.name.label("customer_name"),
                                       customer.email.label("customer_email"),
                                       customer.company_name.label("customer_company_name"))
                           .outerjoin(_CUSTOMERS, customer.id == key.customer_id))
    if served_by_an_index:
        return keys_with_customers.where(*keyset_where, condition).order_by(newest_first).limit(limit)
    # The recent keys with only the columns the filter reads: a narrower scan.
    read = sorted({column.key for column in iterate(condition) if isinstance(column, Column)
                   and column.table is _KEYS} | {"id"})
    recent = (core_select(*(key[name] for name in read)).where(*keyset_where).order_by(newest_first)
              .limit(RECENT_KEYS).subquery("recent"))
    recent_matches = core_select(recent.c.id).where(ClauseAdapter(recent).traverse(condition)).cte("recent_matches")
    # `key_number + 0` keeps the planner from walking the ID index here: this branch is for few matches.
    anywhere = (core_select(key.id).where(*keyset_where, condition).order_by((key.key_number + 0).desc())
                .limit(limit).subquery("anywhere"))
    too_few = core_select(func.count()).select_from(recent_matches).scalar_subquery() < limit
    matches = union(core_select(recent_matches.c.id), core_select(anywhere.c.id).where(too_few))
    return keys_with_customers.where(key.id.in_(matches)).order_by(newest_first).limit(limit)


def _served_by_an_index(node: Node) -> bool:
    """Whether the query pins its keys with `id=`, `key=`, `customer=` or `batch=` (in and/or combinations), or is
    blank."""
    match node:
        case Everything():
            return True
        case Comparison(field=field, operator="="):
            return field in ("id", "key", "customer", "batch")
        case Or(operands):
            return all(_served_by_an_index(operand) for operand in operands)
        case And(operands):
            return any(_served_by_an_index(operand) for operand in operands)
    return False


COUNT_CAP = 10_000


def key_counts(session: Session, *, product_id: int, query: str = "", cap: int = COUNT_CAP,
               now: datetime | None = None) -> tuple[int, int | None]:
    """How many keys the product has and how many match the query (None without one), each counted up to
    `cap` + 1 so that a page never counts a million index entries: a count past `cap` means "more than"."""

    def count(condition) -> int:
        capped = (core_select(_KEYS.c.id).where(_KEYS.c.product_id == product_id, condition).limit(cap + 1)
                  .subquery())
        return session.connection().execute(core_select(func.count()).select_from(capped)).scalar_one()

    total = count(true())
    return total, count(key_filter(query, now=now or utcnow())) if query.strip() else None


def export_rows(session: Session, *, product: Product, query: str = "", chunk: int = 1000):
    """Every matching key as a CSV row, read in keyset chunks so all of them never sit in memory at once.

    Rows are made lazily: check the query with `parse` first to answer a malformed one before streaming.
    """
    yield ["ID", "Key", "Created", "Expires", "Period", *(product.feature_name(n) for n in range(1, 9)),
           "Notes", "Block", "Customer", "MaxNoOfMachines", "GlobalId"]
    before = None
    while True:
        page = search_keys(session, product=product, query=query, before=before, limit=chunk)
        for key in page.keys:
            yield [key.key_number, key.key, key.created.isoformat(), key.expires.isoformat(), key.period,
                   *(getattr(key, name) for name in FEATURES), key.notes, key.block,
                   key.customer_id or "", key.max_no_of_machines, key.id]
        if page.next_before is None:
            return
        before = page.next_before
        session.expunge_all()


# Cryptolens' GetKeys orders by a field of the key ("F1 descending" in its .NET client's documentation).
ORDERABLE = ("id", "key", "created", "expires", "period", "customer", "notes", "block", "trial",
             *(f"f{n}" for n in range(1, 9)))


def page_of_keys(session: Session, *, product_id: int, query: str = "", order_by: str = "ID ascending",
                 page: int = 1, per_page: int = 100, now: datetime | None = None) -> tuple[list, int]:
    """One page (from 1) of the product's keys matching the search language, in `order_by` ("ID ascending",
    "Expires descending", ...), and how many match in all: product/GetKeys' paging over the same parser."""
    words = order_by.split()
    if not 1 <= len(words) <= 2 or words[0].lower() not in ORDERABLE or \
            (len(words) == 2 and words[1].lower() not in ("ascending", "descending")):
        raise QueryError(f"Order by one of {', '.join(ORDERABLE)}, then ascending or descending", 0)
    column = COLUMNS[words[0].lower()]
    order = column.desc() if len(words) == 2 and words[1].lower() == "descending" else column.asc()
    condition = key_filter(query, now=now or utcnow())
    where = (_KEYS.c.product_id == product_id, condition)
    total = session.connection().execute(core_select(func.count()).select_from(_KEYS).where(*where)).scalar_one()
    rows = session.connection().execute(core_select(_KEYS).where(*where).order_by(order, _KEYS.c.key_number)
                                        .limit(per_page).offset((page - 1) * per_page)).all()
    return rows, total
