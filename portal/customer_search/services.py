"""The customer search: the customer list's pages and the customer picker's choices on the key forms."""

import re
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Select, bindparam, union
from sqlalchemy import select as core_select
from sqlmodel import Session

from portal.billing_models import StripeCustomer
from portal.customer_search.index import index_for, prefix_params, prefix_range, words_of
from portal.models import ID_MAX, Customer, LicenseKey, Product
from portal.rules import FULL_KEY


@dataclass
class Choices:
    """What the customer picker lists: the customers it offers (the chosen one first), the chosen id, and the one
    chosen before when the typed text no longer finds it (offered apart, to go back to)."""

    customers: list
    selected: int | None
    earlier: list


@dataclass
class Page:
    customers: list  # rows of LISTED: id, name, email, company_name, created
    next_before: int | None


_CUSTOMERS = Customer.__table__
_STRIPE_CUSTOMERS = StripeCustomer.__table__
# What the customer list and the key forms' customer picker show: plain rows, not ORM entities.
LISTED = (_CUSTOMERS.c.id, _CUSTOMERS.c.name, _CUSTOMERS.c.email, _CUSTOMERS.c.company_name, _CUSTOMERS.c.created)


def search_customers(session: Session, *, vendor_id: int, query: str = "", before: int | None = None,
                     limit: int = 25) -> Page:
    """Newest first, by keyset (`id < before`), matching an id, an e-mail prefix, a word prefix, a secret, an e-mail
    domain (`@example.com`, or its start) or a whole key of the customer's."""
    params = {"vendor_id": vendor_id, "before": before}
    query = query.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    dialect = session.get_bind().dialect.name
    shape = _query_shape(query, params, dialect) if query else None
    statement = _search_statement(shape, before is not None, limit + 1, dialect)
    rows = session.connection().execute(statement, params).all()
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return Page(customers=rows[:limit], next_before=next_before)


def picker_choices(session: Session, *, vendor_id: int, query: str, selected: int | None,
                   limit: int = 8) -> Choices:
    """The customer picker's choices for what was typed, and which is chosen. A lone match is chosen as one types,
    so a typed name never leaves "No customer" chosen unnoticed; the one chosen before stays chosen only while the
    typed text finds it, so that a key never goes to a customer the search has moved away from."""
    matches = search_customers(session, vendor_id=vendor_id, query=query, limit=limit).customers
    found = session.get(Customer, selected) if selected else None
    before = found if found is not None and found.vendor_id == vendor_id else None
    searched = bool(query.strip())
    if searched and len(matches) == 1:
        chosen = matches[0].id
    elif before is not None and (not searched or _finds(session, vendor_id, query, before.id, matches, limit)):
        chosen = before.id
    else:
        chosen = None
    first = [c for c in matches if c.id == chosen] or ([before] if chosen is not None else [])
    matched = {c.id for c in matches}
    return Choices(first + [c for c in matches if c.id != chosen], chosen,
                   [before] if before is not None and before.id != chosen and before.id not in matched else [])


def _finds(session: Session, vendor_id: int, query: str, customer_id: int, matches: list, limit: int) -> bool:
    """Whether the search for `query` finds the customer: among its first `limit` matches, or (when there are more)
    as the newest match up to its id."""
    listed = any(c.id == customer_id for c in matches)
    if listed or len(matches) < limit:
        return listed
    newest = search_customers(session, vendor_id=vendor_id, query=query, before=customer_id + 1, limit=1).customers
    return bool(newest) and newest[0].id == customer_id


_NOT_IN_A_DOMAIN = re.compile(r"[\s@/:]")


def ascii_domain(text: str) -> str:
    """An address or domain as browsers send and the portal keeps it: a domain in other letters (`exämple.test`) in
    its ASCII form (`xn--exmple-cua.test`); the text as it is when it has no such domain."""
    local, at, domain = text.rpartition("@")
    if domain.isascii():
        return text
    try:
        return local + at + domain.encode("idna").decode("ascii")
    except UnicodeError:
        return text


def _query_shape(query: str, params: dict, dialect: str) -> tuple:
    """The ways the query can match, as a hashable shape; their values go into `params`."""
    params["secret"] = query
    email_bounded = prefix_params(params, "email", query.lower())
    # An address is kept as it came: a domain in other letters as typed (the API, the CLI) or in the ASCII form
    # browsers send (`xn--…`); typed as read, both are found.
    ascii_email = ascii_domain(query.lower()) if "@" in query else query.lower()
    email_ascii = prefix_params(params, "email_ascii", ascii_email) if ascii_email != query.lower() else None
    number = query.removeprefix("#")  # `#3`, as the pages show a customer's id
    by_id = number.isdecimal() and len(number) <= 10 and int(number) <= ID_MAX
    if by_id:
        params["id"] = int(number)
    by_stripe = query.startswith("cus_") and len(query) <= 255  # a Stripe customer id, pasted from Stripe
    if by_stripe:
        params["stripe_customer_id"] = query
    by_domain = None
    # `@example.com`, or `example.com` alone
    domain = query[1:] if query.startswith("@") else query if "." in query and not _NOT_IN_A_DOMAIN.search(query) \
        else ""
    domain_ascii = None
    if domain:
        by_domain = prefix_params(params, "domain", domain.lower())
        if ascii_domain(domain.lower()) != domain.lower():
            domain_ascii = prefix_params(params, "domain_ascii", ascii_domain(domain.lower()))
    by_key = bool(FULL_KEY.fullmatch(query.upper()))
    if by_key:
        params["key_text"] = query.upper()
    words = [] if query.startswith("@") else words_of(query)  # `@example.com` is a domain, not the words of names
    return (email_bounded, email_ascii, by_id, by_stripe, by_domain, domain_ascii, by_key,
            index_for(dialect).bind(words, params) if words else None)


@lru_cache(maxsize=256)
def _search_statement(shape: tuple | None, keyset: bool, limit: int, dialect: str) -> Select:
    """The statement for a query of this shape (None: no query), with bind parameters for the values.

    Made once per shape: building a statement (and its cache key) costs more than running it, and the same
    statement object lets SQLAlchemy reuse its compiled form.
    """
    customer = _CUSTOMERS.c
    statement = core_select(*LISTED).where(customer.vendor_id == bindparam("vendor_id"))
    if shape is not None:
        statement = statement.where(customer.id.in_(_matching_ids(shape, keyset, limit, dialect)))
    if keyset:
        statement = statement.where(customer.id < bindparam("before"))
    return statement.order_by(customer.id.desc()).limit(limit)


def _matching_ids(shape: tuple, keyset: bool, limit: int, dialect: str):
    """The ids of the newest `limit` customers below `before` in each way of matching, as one UNION.

    One OR over the ways would be planned as a walk down the whole table testing every row; each branch here is
    served by its own index instead, and the page's newest `limit` are among the branches' newest `limit`.
    Name words go to the database's word index (index.py).
    """
    email_bounded, email_ascii, by_id, by_stripe, by_domain, domain_ascii, by_key, words = shape
    customer = _CUSTOMERS.c
    vendor_id = bindparam("vendor_id")

    def newest(ids: Select, column) -> Select:
        ids = ids.where(column < bindparam("before")) if keyset else ids
        page = ids.order_by(column.desc()).limit(limit).subquery()
        return core_select(page.c[0])

    branches = [
        newest(core_select(customer.id).where(
            customer.vendor_id == vendor_id,
            prefix_range(customer.email_normalized, "email", email_bounded)), customer.id),
        core_select(customer.id).where(customer.vendor_id == vendor_id, customer.secret == bindparam("secret")),
    ]
    for name, bounded, column in (("email_ascii", email_ascii, customer.email_normalized),
                                  ("domain", by_domain, customer.email_domain),
                                  ("domain_ascii", domain_ascii, customer.email_domain)):
        if bounded is not None:
            branches.append(newest(core_select(customer.id).where(
                customer.vendor_id == vendor_id, prefix_range(column, name, bounded)), customer.id))
    if by_id:
        branches.append(core_select(customer.id).where(customer.vendor_id == vendor_id,
                                                       customer.id == bindparam("id")))
    if by_stripe:
        stripe = _STRIPE_CUSTOMERS.c
        branches.append(core_select(stripe.customer_id).where(
            stripe.vendor_id == vendor_id, stripe.stripe_customer_id == bindparam("stripe_customer_id")))
    if by_key:  # each of the vendor's products' unique (product_id, key) index
        key = LicenseKey.__table__.c
        branches.append(core_select(key.customer_id).where(
            key.key == bindparam("key_text"), key.customer_id.is_not(None),
            key.product_id.in_(core_select(Product.__table__.c.id).where(Product.__table__.c.vendor_id == vendor_id))))
    if words is not None:
        branches.append(index_for(dialect).newest_matching(words, newest))
    return union(*branches)


