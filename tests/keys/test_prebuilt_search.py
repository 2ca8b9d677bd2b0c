"""The searches reuse one prebuilt statement per query shape: the values of one query never leak into another."""

from datetime import UTC, datetime

import pytest

from portal.customer_search.services import search_customers
from portal.keys import search
from portal.keys.query import condition_of, key_filter, parse, shape_of
from portal.keys.search import key_search_statement, search_keys

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, f1_name="Pro")


def test_queries_of_one_shape_get_their_own_keys(make, product, customer, db):
    first, second, third = (make.key(product, customer=customer if n == 2 else None) for n in range(3))
    for key in (first, second, third):
        page = search_keys(db, product=product, query=f"id={key.key_number}", now=NOW)
        assert [row.id for row in page.keys] == [key.id]
    assert [row.id for row in search_keys(db, product=product, query=f'key="{second.key}"', now=NOW).keys] == \
        [second.id]
    assert [row.id for row in search_keys(db, product=product, query=f"customer={customer.id}", now=NOW).keys] == \
        [third.id]
    assert search_keys(db, product=product, query=f"customer={customer.id}", now=NOW).customers[customer.id].name \
        == customer.name


def test_a_filter_off_the_indexes_is_bound_per_query(make, product, db):
    keys = [make.key(product, period=days) for days in (10, 20, 30)]
    for days, expected in ((15, keys[:1]), (25, keys[:2]), (40, keys)):
        query = f"period < {days}"
        found = search_keys(db, product=product, query=query, now=NOW).keys
        assert sorted(row.id for row in found) == sorted(key.id for key in expected), query


def test_statement_for_reading_a_plan_carries_its_own_values():
    statement = key_search_statement(product_id=7, query="id=5", before=None, limit=26, now=NOW)
    assert key_search_statement(product_id=8, query="id=6", before=None, limit=26, now=NOW) is not statement
    compiled = statement.compile(compile_kwargs={"literal_binds": True})
    assert "product_id = 7" in str(compiled) and "key_number = 5" in str(compiled)


def test_shape_leaves_values_out():
    today = NOW.date()
    assert shape_of(parse("id=1 and expires < today"), today=today)[0] == \
        shape_of(parse("id=2 and expires < DateTime(2020,1,1)"), today=today)[0]
    assert shape_of(parse("F1"), today=today)[0] != shape_of(parse("F1 = false"), today=today)[0]
    assert shape_of(parse("customer = none"), today=today)[0] != shape_of(parse("customer = 3"), today=today)[0]
    shape, values = shape_of(parse('key.contains("a%_/b")'), today=today)
    assert values == {"q0": "a/%/_//b"}
    assert condition_of(shape, values).compare(key_filter('key.contains("a%_/b")', now=NOW))


def test_customer_searches_of_one_shape_get_their_own_customers(make, vendor, other_vendor, db):
    ada = make.customer(vendor, name="Ada Lovelace", email="ada@engines.test")
    grace = make.customer(vendor, name="Grace Hopper", email="grace@navy.test")
    make.customer(other_vendor, name="Ada Other", email="ada@other.test")
    assert [row.id for row in search_customers(db, vendor_id=vendor.id, query="ada").customers] == [ada.id]
    assert [row.id for row in search_customers(db, vendor_id=vendor.id, query="grace").customers] == [grace.id]
    assert [row.id for row in search_customers(db, vendor_id=vendor.id, query=str(grace.id)).customers] == \
        [grace.id]
    assert [row.id for row in search_customers(db, vendor_id=vendor.id, query=str(ada.id)).customers] == [ada.id]
    assert search_customers(db, vendor_id=other_vendor.id, query=str(ada.id)).customers == []


def test_services_keep_one_statement_per_shape():
    search._search_statement.cache_clear()
    for number in range(1, 6):
        key_search_statement(product_id=1, query=f"id={number}", before=None, limit=26, now=NOW)
    assert search._search_statement.cache_info().currsize == 1
