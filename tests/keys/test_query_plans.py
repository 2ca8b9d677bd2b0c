"""At a million keys on one product, the list and the searches `id=`, `key=`, `customer=`, `expires<` are served
by indexes: the query plan of the product page's own SQL is read on the database under test."""

import os
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from portal.db import make_engine
from portal.keys.search import key_search_statement
from tests.support.migrate import upgrade

KEYS = 1_000_000
CUSTOMERS = 1_000
NOW = datetime(2026, 6, 1, tzinfo=UTC)

SEED = {
    "postgresql": """
        INSERT INTO license_key (vendor_id, product_id, key_number, key, customer_id, created, expires, period,
                                 f1, f2, f3, f4, f5, f6, f7, f8, notes, block, trial_activation,
                                 max_no_of_machines, allowed_machines)
        SELECT 1, 1, n, 'K' || lpad(n::text, 22, '0'),
               CASE WHEN n % 10 = 0 THEN 1 + (n / 10) % :customers END,
               timestamptz '2025-01-01' + (n % 365) * interval '1 day',
               timestamptz '2025-01-01' + (n % 730) * interval '1 day', 365,
               n % 2 = 0, false, false, false, false, false, false, false, '', false, false, 0, ''
        FROM generate_series(1, :keys) AS n""",
    "sqlite": """
        WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < :keys)
        INSERT INTO license_key (vendor_id, product_id, key_number, key, customer_id, created, expires, period,
                                 f1, f2, f3, f4, f5, f6, f7, f8, notes, block, trial_activation,
                                 max_no_of_machines, allowed_machines)
        SELECT 1, 1, n, 'K' || printf('%022d', n),
               CASE WHEN n % 10 = 0 THEN 1 + (n / 10) % :customers END,
               datetime('2025-01-01', '+' || (n % 365) || ' days'),
               datetime('2025-01-01', '+' || (n % 730) || ' days'), 365,
               n % 2 = 0, 0, 0, 0, 0, 0, 0, 0, '', 0, 0, 0, ''
        FROM numbers""",
}
CUSTOMER_SEED = {
    "postgresql": """INSERT INTO customer (vendor_id, name, email, email_normalized, company_name, notes, created,
                        enable_customer_association, allow_activation_management, allow_multiple_user_association,
                        max_no_of_devices, secret, origin)
                     SELECT 1, 'c' || n, '', '', '', '', now(), false, false, false, 0, 's' || n, 'vendor'
                     FROM generate_series(1, :customers) AS n""",
    "sqlite": """WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers WHERE n < :customers)
                 INSERT INTO customer (vendor_id, name, email, email_normalized, company_name, notes, created,
                        enable_customer_association, allow_activation_management, allow_multiple_user_association,
                        max_no_of_devices, secret, origin)
                 SELECT 1, 'c' || n, '', '', '', '', datetime('now'), 0, 0, 0, 0, 's' || n, 'vendor' FROM numbers""",
}


@pytest.fixture(scope="module")
def million_keys(database_url, tmp_path_factory):
    """A database of its own with one product holding a million keys, analysed."""
    if database_url.startswith("sqlite"):
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('plans') / 'million.db'}", None
    else:
        server = make_url(database_url)
        name = f"portal_plans_{os.getpid()}"
        admin = server.set(database="postgres", drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')
        url = server.set(database=name).render_as_string(hide_password=False)
        drop = (admin, name)
    upgrade(url)
    engine = make_engine(url)
    dialect = engine.dialect.name
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO vendor (id, slug, name, portal_enabled, signup_enabled, "
                                "block_expired_keys, created) VALUES (1, 'big', 'Big', true, true, false, "
                                "CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO product (id, vendor_id, name, description, f1_name, f2_name, f3_name, "
                                "f4_name, f5_name, f6_name, f7_name, f8_name, next_key_number, created) VALUES "
                                "(1, 1, 'Big', '', '', '', '', '', '', '', '', '', 1, CURRENT_TIMESTAMP)"))
        connection.execute(text(CUSTOMER_SEED[dialect]), {"customers": CUSTOMERS})
        connection.execute(text(SEED[dialect]), {"keys": KEYS, "customers": CUSTOMERS})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    yield engine
    engine.dispose()
    if drop:
        with psycopg.connect(drop[0], autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{drop[1]}" WITH (FORCE)')


def plan(engine, query: str, before: int | None = None) -> str:
    statement = key_search_statement(product_id=1, query=query, before=before, limit=26, now=NOW)
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.execute(text(prefix + str(compiled))).fetchall()
    return "\n".join(str(row[-1]) for row in rows)


# Each search names the index it must use; SQLite calls the unique constraints' indexes sqlite_autoindex_…, so
# there the columns the index was searched by stand for the name. An `expires <` search may also walk the ID
# index backwards and stop at the page's end, which the planner prefers when many keys match.
CASES = [
    ("", ["uq_license_key_product_number", "(product_id=?)"]),
    ("id=500000", ["uq_license_key_product_number", "(product_id=? AND key_number=?)"]),
    ('key="K0000000000000000500000"', ["uq_license_key_product_key", "(product_id=? AND key=?)"]),
    # Both indexes begin with the two columns compared and give the matches in ID order; SQLite picks either.
    ("customer = 17", ["ix_license_key_product_customer", "ix_license_key_customer"]),
    ("expires < DateTime(2025,01,03)", ["ix_license_key_product_expires", "uq_license_key_product_number"]),
    ("batch = 3", ["ix_license_key_product_batch"]),
]


@pytest.mark.parametrize(("query", "acceptable"), CASES)
def test_searches_use_their_index(million_keys, query, acceptable):
    found = plan(million_keys, query)
    assert any(index in found for index in acceptable), found
    if query in ("", "customer = 17", "batch = 3"):  # many matches: the index must give them in ID order, unsorted
        assert "TEMP B-TREE" not in found and "Sort" not in found, "no sort of the matches: " + found
    assert "Seq Scan" not in found and "SCAN license_key\n" not in found + "\n", found


def test_keyset_page_deep_in_the_list_uses_the_index(million_keys):
    found = plan(million_keys, "", before=400_000)
    assert "uq_license_key_product_number" in found or "(product_id=? AND key_number<?)" in found, found
    assert "Seq Scan" not in found, found
