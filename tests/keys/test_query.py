"""The key search language: what each query selects from a product's keys, and how malformed ones are refused."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from portal.db import make_engine
from portal.domain import DomainError
from portal.keys.query import (
    And,
    Comparison,
    Everything,
    MethodCall,
    Not,
    Or,
    QueryError,
    Variable,
    add_months,
    key_filter,
    parse,
)
from portal.models import Customer, LicenseKey, Product, Vendor

# The last day of March in a leap year: a month back is 29 February, a month forward 30 April.
NOW = datetime(2024, 3, 31, 12, 0, tzinfo=UTC)


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# key_number: (key, created, expires, period, features, notes, block, trial, customer)
KEYS = {
    1: ("ITVBC-GXXNU-GSMTK-NIJBT", at(2015, 1, 1, 10), at(2016, 1, 1), 365, {1}, "Reseller: Contoso",
        False, False, "c1"),
    2: ("AAAAA-BBBBB-CCCCC-DDDDD", at(2024, 3, 31, 8), at(2024, 4, 1, 9), 30, {2}, "100% off", True, False, "c2"),
    3: ("ABCDE-FGHIJ-KLMNO-PQRST", at(2024, 3, 30, 23, 59, 59), at(2024, 4, 30, 12), 0, {3}, "a_b",
        False, True, None),
    4: ("ZZZZZ-YYYYY-XXXXX-WWWWW", at(2024, 2, 29), at(2024, 3, 31), 30, {1, 4}, "", False, False, None),
    5: ("QWERT-YUIOP-ASDFG-HJKLZ", at(2024, 3, 31), at(2024, 4, 1), 1, {5}, "reseller B", False, False, "c1"),
    6: ("MNBVC-XZLKJ-HGFDS-APOIU", at(2024, 2, 28, 23), at(2025, 1, 1), 7, {6}, 'say "hi"', False, False, "c2"),
    7: ("ITVBC-AAAAA-BBBBB-CCCCC", at(2023, 12, 31, 23, 59, 59), at(2024, 5, 1), 90, {7}, "ab", True, False, "c1"),
    8: ("KEYAB-KEYCD-KEYEF-KEYGH", at(2015, 6, 15, 12), at(2015, 12, 31), 200, {8}, "ITVBC", False, False, None),
    9: ("LMNOP-QRSTU-VWXYZ-ABCDE", at(2024, 3, 31, 23, 59, 59, 999000), at(2024, 4, 30), 2**31 - 1,
        {1, 2, 3, 4, 5, 6, 7, 8}, "Reseller: Fabrikam", True, True, "c2"),
    10: ("PPPPP-QQQQQ-RRRRR-SSSSS", at(2024, 4, 1), at(2024, 4, 2), 10, set(), "a%b", False, False, None),
    11: ("GGGGG-HHHHH-IIIII-JJJJJ", at(2024, 3, 1), at(2024, 2, 29, 12), 30, {1, 2}, "", False, False, None),
    12: ("BBBBB-CCCCC-DDDDD-EEEEE", at(2020, 2, 29), at(2024, 4, 30, 23, 59, 59), 60, set(), "back\\slash",
         False, False, "c1"),
    13: ("CCCCC-DDDDD-EEEEE-FFFFF", at(2024, 3, 30, 12), at(2024, 3, 30, 12), 5, set(), "", False, True, None),
    14: ("DDDDD-EEEEE-FFFFF-GGGGG", at(2016, 1, 1), at(2024, 3, 31, 23, 59, 59), 14, set(), "Trial for ACME",
         False, False, None),
    15: ("EEEEE-FFFFF-GGGGG-HHHHH", at(2024, 1, 15), at(2030, 1, 1), 365, {1, 8}, "uñicode Ærø", False, True, "c1"),
}
ALL = frozenset(KEYS)


def every_but(*numbers: int) -> frozenset[int]:
    return ALL - set(numbers)


def insert_keys(db: Session, *, slug: str) -> tuple[int, dict[str, int]]:
    """A vendor whose product holds KEYS: the product's id and the ids of customers c1 and c2.

    Another product of the vendor holds one more key, which no search of the first may find.
    """
    vendor = Vendor(slug=slug, name="Key search")
    db.add(vendor)
    db.flush()
    customer_rows = {name: Customer(vendor_id=vendor.id, name=name, secret=f"secret-{name}") for name in ("c1", "c2")}
    product, other = Product(vendor_id=vendor.id, name="Searched"), Product(vendor_id=vendor.id, name="Other")
    db.add_all([*customer_rows.values(), product, other])
    db.flush()
    customers = {name: row.id for name, row in customer_rows.items()}
    for number, (key, created, expires, period, features, notes, block, trial, customer) in KEYS.items():
        db.add(LicenseKey(vendor_id=vendor.id, product_id=product.id, key_number=number, key=key, created=created,
                          expires=expires, period=period, notes=notes, block=block, trial_activation=trial,
                          customer_id=customers.get(customer), **{f"f{n}": n in features for n in range(1, 9)}))
    db.add(LicenseKey(vendor_id=vendor.id, product_id=other.id, key_number=1, key="OTHER-PRODU-CTKEY-AAAAA",
                      created=at(2024, 3, 31, 9), expires=at(2024, 4, 1)))
    db.commit()
    return product.id, customers


def select_numbers(engine: Engine, product_id: int, query: str) -> set[int]:
    statement = select(LicenseKey.key_number).where(LicenseKey.product_id == product_id, key_filter(query, now=NOW))
    with Session(engine) as db:
        return set(db.exec(statement).all())


@contextmanager
def searchable_keys(database_url: str, *, slug: str) -> Iterator[tuple[Callable[[str], set[int]], dict[str, int]]]:
    """A search of KEYS (the query in, the key numbers it selects out) and the ids of customers c1 and c2.

    The keys are inserted once and only read, so a whole module or a hypothesis test can share them; the
    conftest's `app` fixture empties the tables only at the start of a test that uses it.
    """
    engine = make_engine(database_url)
    with Session(engine) as db:
        product_id, customers = insert_keys(db, slug=slug)
    try:
        yield (lambda query: select_numbers(engine, product_id, query)), customers
    finally:
        with Session(engine) as db:
            db.exec(sa.delete(Vendor).where(Vendor.slug == slug))
            db.commit()
        engine.dispose()


@pytest.fixture(scope="module")
def searched(database_url):
    """The key numbers a query selects; "{c1}" in the query stands for customer c1's id."""
    with searchable_keys(database_url, slug="key-search") as (search, customers):
        yield lambda query: search(query.format(**customers))


F1 = {1, 4, 9, 11, 15}
BLOCKED = {2, 7, 9}
TRIAL = {3, 9, 13, 15}
OF_C1, OF_C2, OF_NOBODY = {1, 5, 7, 12, 15}, {2, 6, 9}, {3, 4, 8, 10, 11, 13, 14}
CREATED_TODAY = {2, 5, 9}

SELECTIONS = [
    # id, the per-product key number
    ("id=2", {2}),
    ("ID == 2", {2}),
    ("id != 2", every_but(2)),
    ("id <> 2", every_but(2)),
    ("id<4", {1, 2, 3}),
    ("id <= 4", {1, 2, 3, 4}),
    ("id>13", {14, 15}),
    ("id >= 13", {13, 14, 15}),
    ("Id=2 or id=3", {2, 3}),
    ("id = -1", set()),
    ("id = 99999", set()),
    ("id < 9223372036854775807", ALL),
    ("id > -9223372036854775808", ALL),
    # key
    ('key="ITVBC-GXXNU-GSMTK-NIJBT"', {1}),
    ('key = "itvbc-gxxnu-gsmtk-nijbt"', {1}),
    ("ITVBC-GXXNU-GSMTK-NIJBT", {1}),
    ("  itvbc-gxxnu-gsmtk-nijbt  ", {1}),
    ('key != "ITVBC-GXXNU-GSMTK-NIJBT"', every_but(1)),
    ("key = AAAAA-BBBBB-CCCCC-DDDDD", {2}),
    ('key.contains("ITVBC")', {1, 7}),
    ('KEY.Contains("itvbc")', {1, 7}),
    ('key.contains("ddddd-e")', {12, 13, 14}),
    ('key.startswith("itvbc-a")', {7}),
    ('key.StartsWith("ITVBC")', {1, 7}),
    ('key.startswith("")', ALL),
    ('key.contains("%")', set()),
    ('key.contains("_")', set()),
    # notes
    ('notes.contains("reseller")', {1, 5, 9}),
    ('notes.contains("RESELLER: ")', {1, 9}),
    ('notes.startswith("trial")', {14}),
    ('notes = "ab"', {7}),
    ('notes = ""', {4, 11, 13}),
    ('notes != ""', every_but(4, 11, 13)),
    ('notes = "say \\"hi\\""', {6}),
    ('notes.contains("\\\\")', {12}),
    ('notes.contains("%")', {2, 10}),
    ('notes.contains("a%b")', {10}),
    ('notes.contains("a_b")', {3}),
    ('notes.contains("_")', {3}),
    ('notes.contains("/")', set()),
    ('notes.contains("Ærø")', {15}),
    # created and expires against the variables, each a whole UTC day
    ("created = today", CREATED_TODAY),
    ("CREATED=TODAY", CREATED_TODAY),
    ("created != today", every_but(*CREATED_TODAY)),
    ("created < today", {1, 3, 4, 6, 7, 8, 11, 12, 13, 14, 15}),
    ("created <= today", every_but(10)),
    ("created > today", {10}),
    ("created >= today", {2, 5, 9, 10}),
    ("created = tomorrow", {10}),
    ("created = monthback", {4}),
    ("created >= monthback", {2, 3, 4, 5, 9, 10, 11, 13}),
    ("expires = today", {4, 14}),
    ("expires < today", {1, 8, 11, 13}),
    ("expires = tomorrow", {2, 5}),
    ("expires = monthback", {11}),
    ("expires = monthforward", {3, 9, 12}),
    ("expires < monthforward", {1, 2, 4, 5, 8, 10, 11, 13, 14}),
    ("expires <= monthforward", every_but(6, 7, 15)),
    ("expires > monthforward", {6, 7, 15}),
    # created and expires against DateTime: a date alone is a whole day, a time of day is exact
    ("created >= DateTime(2015,01,01)", ALL),
    ("created = DateTime(2015,1,1)", {1}),
    ("created < DateTime(2015,1,1)", set()),
    ("created <= DateTime(2015,6,15)", {1, 8}),
    ("created > DateTime(2015,6,15)", every_but(1, 8)),
    ("expires <= DateTime(2016,01,01)", {1, 8}),
    ("created = datetime(2020, 2, 29)", {12}),
    ("created = DateTime(2015,1,1,10,0,0)", {1}),
    ("created = DateTime(2015,1,1,10,0,1)", set()),
    ("created < DateTime(2024,3,31,8,0,0)", every_but(2, 9, 10)),
    ("created <= DateTime(2024,3,31,8,0,0)", every_but(9, 10)),
    ("created > DateTime(2024,3,31,8,0,0)", {9, 10}),
    ("created >= DateTime(2024,3,31,8,0,0)", {2, 9, 10}),
    ("created != DateTime(2024,3,31,8,0,0)", every_but(2)),
    ("created <= DateTime(9999,12,31)", ALL),
    ("expires > DateTime(9999,12,31)", set()),
    ("expires >= DateTime(1,1,1)", ALL),
    # period
    ("period = 30", {2, 4, 11}),
    ("period != 30", every_but(2, 4, 11)),
    ("period > 100", {1, 8, 9, 15}),
    ("period <= 1", {3, 5}),
    ("period >= 2147483647", {9}),
    ("period < 0", set()),
    # the flags
    ("F1 = true", F1),
    ("f1 == false", every_but(*F1)),
    ("F1", F1),
    ("F2 != true", every_but(2, 9, 11)),
    ("f3 = TRUE", {3, 9}),
    ("F4", {4, 9}),
    ("F5=true", {5, 9}),
    ("f6", {6, 9}),
    ("F7 <> false", {7, 9}),
    ("F8", {8, 9, 15}),
    ("block", BLOCKED),
    ("Block = false", every_but(*BLOCKED)),
    ("trial = true", TRIAL),
    ("not trial", every_but(*TRIAL)),
    # customer, which may be nobody
    ("customer = {c1}", OF_C1),
    ("customer != {c1}", every_but(*OF_C1)),
    ("not customer = {c2}", every_but(*OF_C2)),
    ("customer = none", OF_NOBODY),
    ("Customer = NULL", OF_NOBODY),
    ("customer != none", every_but(*OF_NOBODY)),
    ("customer > 0", every_but(*OF_NOBODY)),
    ("customer = 2147483648", set()),
    ("not (customer = {c1} or customer = none)", OF_C2),
    # and, or, not and parentheses
    ("F1 and F8", {9, 15}),
    ("F1 AND NOT F8", {1, 4, 11}),
    ("F1 or F2", {1, 2, 4, 9, 11, 15}),
    ("not F1 or F2", {2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}),
    ("not (F1 or F2)", {3, 5, 6, 7, 8, 10, 12, 13, 14}),
    ("not not F1", F1),
    ("!(F1) && !block", {3, 5, 6, 8, 10, 12, 13, 14}),
    ("F1 && !block", {1, 4, 11, 15}),
    ("F1 || F3", {1, 3, 4, 9, 11, 15}),
    ("id < 5 and (block or trial)", {2, 3}),
    ("id < 5 and block or trial", {2, 3, 9, 13, 15}),
    ("trial or id < 5 and block", {2, 3, 9, 13, 15}),
    ("id = 1 or id = 2 or id = 3 and F3", {1, 2, 3}),
    ("(id = 1 or id = 2 or id = 3) and F3", {3}),
    ("((id = 1) or ((id = 2)))", {1, 2}),
    ("NOT id = 1 AND NOT id = 2", every_but(1, 2)),
    ("created = today and customer != none", CREATED_TODAY),
    ('key.contains("ITVBC") or notes.contains("ITVBC")', {1, 7, 8}),
    ("expires < today and not block", {1, 8, 11, 13}),
    ('not (period = 30 and (F2 or notes = ""))', every_but(2, 4, 11)),
    ("(\n\tF1\n)\nand\tF8", {9, 15}),
    ("", ALL),
    ("   ", ALL),
]


@pytest.mark.parametrize(("query", "expected"), SELECTIONS, ids=[query for query, _ in SELECTIONS])
def test_query_selects(searched, query, expected):
    assert searched(query) == set(expected)


MALFORMED = [
    ("id=", 'Expected a whole number after "id="', 3),
    ("id = ", 'Expected a whole number after "id ="', 5),
    ("id", 'Expected a comparison such as =, !=, < or > after "id"', 2),
    ("foo = 1", 'Unknown field "foo"', 0),
    ("id = 1 and bar", 'Unknown field "bar"', 11),
    ("ITVBC-GXXNU-GSMTK", "Expected a key of four groups of five letters", 0),
    ("itvbc-gxxnu", 'for part of one, write key.contains("ITVBC-GXXNU")', 0),
    ("ITVBC", 'Unknown field "ITVBC"; for keys with these letters, write key.contains("ITVBC")', 0),
    ("Ada Lovelace", "a customer's keys are on the customer's page", 0),
    ('key.endswith("a")', 'Unknown method "endswith"', 4),
    ("notes.", 'Expected a method, contains or startswith, after "notes."', 6),
    ("key.contains(abc)", 'Expected a string in double quotes inside "key.contains(...)"', 13),
    ('key.contains("abc"', 'Expected ")" to close "key.contains("', 18),
    ('id.contains("1")', "Only key and notes have methods", 2),
    ('notes = "abc', "Unterminated string", 8),
    ('notes = "abc\\"', "Unterminated string", 8),
    ("notes = 'x'", "rather than single quotes", 8),
    ("(id = 1", 'Expected ")" to close the "(" at character 1 but found the end of the query', 7),
    ("((id = 1) or id = 2", 'Expected ")" to close the "(" at character 1', 19),
    ("id = 1)", 'Expected "and", "or" or the end of the query but found ")"', 6),
    ("id = 1 id = 2", 'Expected "and", "or" or the end of the query but found "id"', 7),
    ("id = 1 and", "Expected a condition such as id=2 but found the end of the query", 10),
    ("or id = 1", 'Expected a condition such as id=2 but found "or"', 0),
    ("()", 'Expected a condition such as id=2 but found ")"', 1),
    ("not", "Expected a condition such as id=2", 3),
    ("created = DateTime(2015,13,1)", "DateTime(2015,13,1) is not a valid date: the month must be between 1 and 12",
     10),
    ("created = DateTime(2015,2,29)", "February 2015 has 28 days", 10),
    ("created = DateTime(2015,1,1,24,0,0)", "the hour must be between 0 and 23", 10),
    ("created = DateTime(0,1,1)", "the year must be between 1 and 9999", 10),
    ("created = DateTime(2015,1)", "DateTime takes 3 numbers (year, month, day) or 6", 10),
    ("created = DateTime(2015,1,1", 'Expected "," or ")" in "DateTime(...)"', 27),
    ("created = DateTime(2015,,1)", 'Expected a number in "DateTime(...)" but found ","', 24),
    ("created = DateTime", 'Expected "(" after "DateTime"', 18),
    ('created = "2015-01-01"', 'Expected a date such as DateTime(2015,1,31)', 10),
    ("created = yesterday", 'but found "yesterday"', 10),
    ("F1 < true", 'Only = and != compare F1, not "<"', 3),
    ("block >= false", "Only = and != compare block", 6),
    ('key > "A"', "Only = and != compare key", 4),
    ("F1 = 1", 'Expected true or false after "F1 ="', 5),
    ('id = "7"', 'Expected a whole number after "id =" but found the string "7"', 5),
    ("period = true", "Expected a whole number", 9),
    ("customer < none", "Only = and != compare with none", 9),
    ('customer = "x"', "Expected a customer number or none", 11),
    ("id = 9223372036854775808", "does not fit in 64 bits", 5),
    ("id = -9223372036854775809", "does not fit in 64 bits", 5),
    ("id = 1 # comment", 'Unexpected character "#"', 7),
    ("id ≥ 1", 'Unexpected character "≥"', 3),
    ("id - 1", 'Unexpected character "-"', 3),
    ("notes = \"a\x00\"", 'Unexpected character "\\x00"', 10),
    ("x" * 1001, "The query is longer than 1,000 characters", 1000),
    ("(" * 51 + "F1" + ")" * 51, "nests more than 50 levels", 50),
    ("not " * 51 + "F1", "nests more than 50 levels", 200),
]


@pytest.mark.parametrize(("query", "fragment", "position"), MALFORMED, ids=[q[:40] for q, _, _ in MALFORMED])
def test_malformed_query_is_refused_where_it_goes_wrong(query, fragment, position):
    with pytest.raises(QueryError) as refused:
        parse(query)
    assert fragment in refused.value.message
    assert refused.value.position == position
    assert refused.value.message.endswith(f" at character {position + 1}.")
    assert str(refused.value) == refused.value.message
    assert isinstance(refused.value, DomainError)


def test_key_filter_refuses_what_parse_refuses():
    with pytest.raises(QueryError, match=r'after "id=" but found the end of the query at character 4\.'):
        key_filter("id=", now=NOW)


def test_nesting_up_to_the_limit_is_accepted():
    assert parse("(" * 50 + "F1" + ")" * 50) == Comparison("f1", "=", True)
    assert parse("not " * 50 + "F1") is not None


def test_blank_query_is_everything():
    assert parse(" \n") == Everything()
    assert key_filter("", now=NOW).compare(sa.true())


def test_parse_builds_the_tree_with_the_usual_precedence():
    assert parse('not F1 and key.Contains("ab") or id == 3') == Or((
        And((Not(Comparison("f1", "=", True)), MethodCall("key", "contains", "ab"))),
        Comparison("id", "=", 3),
    ))
    assert parse("Created <> MonthBack") == Comparison("created", "!=", Variable("monthback"))
    assert parse('key = "abcde-fghij-klmno-pqrst"') == Comparison("key", "=", "ABCDE-FGHIJ-KLMNO-PQRST")


@pytest.mark.parametrize(("day", "months", "expected"), [
    ((2024, 3, 31), -1, (2024, 2, 29)),
    ((2023, 3, 31), -1, (2023, 2, 28)),
    ((2024, 1, 31), 1, (2024, 2, 29)),
    ((2024, 1, 15), -1, (2023, 12, 15)),
    ((2024, 12, 31), 1, (2025, 1, 31)),
    ((2024, 5, 31), 1, (2024, 6, 30)),
])
def test_a_month_away_is_clamped_to_the_month(day, months, expected):
    assert add_months(date(*day), months) == date(*expected)


def test_today_is_the_utc_day_of_now():
    # 01:00 on 1 April in UTC+2 is still 31 March in UTC.
    assert key_filter("created = today", now=at(2024, 3, 31, 23).astimezone(timezone(timedelta(hours=2)))).compare(
        key_filter("created = today", now=NOW))


def test_naive_now_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        key_filter("id=1", now=datetime(2024, 3, 31))
