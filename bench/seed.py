# ruff: noqa: S608 - the SQL is built from this file's own constants and numbers, never from input
"""Build a benchmark database at scale with bulk inserts: `python bench/seed.py sqlite|postgresql [--size small]`.

One vendor with N customers and N keys on one product (a customer among them holds 20 keys and has a portal
account), a second vendor for isolation, then ANALYZE. The small records (vendors, products, the portal
account, the terms) are made through the portal's own services; the big tables with one INSERT … SELECT each:
generate_series on PostgreSQL, a recursive CTE on SQLite, in one transaction.
"""

import argparse
import json
import os
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("PORTAL_NO_DOTENV", "1")

import psycopg  # noqa: E402
from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from portal.accounts.services import create_account  # noqa: E402
from portal.customer_search.index import FTS_TABLE, WORD_TABLE  # noqa: E402
from portal.dataobjects.services import TERMS_URL, add_object  # noqa: E402
from portal.db import make_engine  # noqa: E402
from portal.models import ActivatedMachine, Customer, LicenseKey  # noqa: E402
from portal.products.services import create_product  # noqa: E402
from portal.terms.services import accept_terms  # noqa: E402
from portal.vendors.services import register_vendor  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SIZES = {"full": 1_000_000, "small": 20_000}
OTHER_VENDOR_ROWS = 1_000
DASHBOARD_KEYS = 20
PG_SERVER = os.environ.get("BENCH_PG_SERVER", "postgresql://postgres@127.0.0.1:5432")
# Another name lets two worktrees bench on one PostgreSQL server at once without dropping each other's database.
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "portal_bench")

VENDOR_PASSWORD = "bench-owner-password"  # noqa: S105 - a benchmark database on loopback
CUSTOMER_PASSWORD = "bench-customer-password"  # noqa: S105
TERMS = "https://bench.example/terms-v1"

FIRST_NAMES = """Ada Alan Grace Edsger Barbara Donald Frances Claude John Margaret Dennis Ken Linus Guido Bjarne
Niklaus Tony Leslie Radia Shafi Silvio Whitfield Martin Ivan Butler Jean Kathleen Mary Hedy Annie Karen Sophie
Lynn Adele Evelyn Jude Carl Emmy Sofia Marie Lise Rosalind Dorothy Chien Katherine Valerie Gladys Elijah Ruth
Peter Paul Anna Maria Omar Yuki Hiro Ingrid Lars Olga Pavel Zoe Noah Liam Mia Emma Leo Hugo Ines Lucia Mateo
Nora Ravi Priya Arjun Mei Wei Chen Sara Amir Layla Tariq Kofi Ama Kwame Femi Chidi Ngozi Aisha Jonas Freya Astrid
Nils Erik Elsa Saga Otto Ida Vera Milan Petra Rosa""".split()
_SYLLABLES = """lan mor vel das kin tor bel rav sun dor mik pel hal ros ten vik
nar bor les tam gil fen dal rok sel mun cas ter wil pon bra lud""".split()
# 1,024 six-letter surnames (no one a prefix of another): a name word matches about N/1024 customers.
LAST_NAMES = [(a + b).capitalize() for a in _SYLLABLES for b in _SYLLABLES]
COMPANY_SUFFIXES = ["Ltd", "GmbH", "Inc", "Labs", "Systems", "Software", "AB", "Studio"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", choices=["sqlite", "postgresql"])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    args = parser.parse_args()
    print(json.dumps(seed(args.database, args.size), indent=2))


def database_url(database: str, size: str) -> str:
    if database == "sqlite":
        return f"sqlite:///{OUT / f'bench-{size}.db'}"
    return f"{PG_SERVER}/{PG_DATABASE}"


def seed(database: str, size: str) -> dict:
    """Build the database from nothing; return the facts the load run needs (logins, ids, queries, timing)."""
    count = SIZES[size]
    url = database_url(database, size)
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    _fresh_database(database, url)
    _migrate(url)
    migrated = time.perf_counter()

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        owner = register_vendor(session, name="Bench Software", slug="bench.example", email="owner@bench.example",
                                password=VENDOR_PASSWORD)
        other = register_vendor(session, name="Other Vendor", slug="other.example", email="owner@other.example",
                                password=VENDOR_PASSWORD)
        product = create_product(session, vendor_id=owner.vendor_id, actor="bench", name="Big App")
        other_product = create_product(session, vendor_id=other.vendor_id, actor="bench", name="Other App")
        session.commit()
    engine.dispose()

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    base = today - timedelta(days=730)
    dashboard_customer = count // 2
    plan = [
        # vendor, product, first customer id, rows, the customer given the last keys (or None)
        (owner.vendor_id, product.id, 1, count, dashboard_customer),
        (other.vendor_id, other_product.id, count + 1, OTHER_VENDOR_ROWS, None),
    ]
    bulk = _bulk_sqlite if database == "sqlite" else _bulk_postgresql
    bulk(url, plan, base)
    bulk_done = time.perf_counter()

    engine = make_engine(url)
    with Session(engine, expire_on_commit=False) as session:
        customer = session.get(Customer, dashboard_customer)
        account = create_account(session, vendor_id=owner.vendor_id, customer_id=customer.id, email=customer.email,
                                 password=CUSTOMER_PASSWORD, name=customer.name, verified=True)
        # The vendor asks for its terms, and the customer has accepted them: the gate does its whole check.
        add_object(session, vendor_id=owner.vendor_id, name=TERMS_URL, string_value=TERMS, actor="bench")
        accept_terms(session, account=account, url=TERMS)
        keys = session.exec(select(LicenseKey).where(LicenseKey.customer_id == customer.id)
                            .order_by(LicenseKey.key_number)).all()
        for key in keys[:5]:
            for n in (1, 2):
                session.add(ActivatedMachine(key_id=key.id, mid=f"machine-{key.key_number}-{n}",
                                             ip="192.0.2.1", friendly_name=f"Laptop {n}"))
        middle = session.exec(select(LicenseKey).where(LicenseKey.product_id == product.id,
                                                       LicenseKey.key_number == count // 3)).one()
        session.commit()
        assert len(keys) == DASHBOARD_KEYS, f"the dashboard customer holds {len(keys)} keys"
    engine.dispose()
    _analyze(database, url)
    finished = time.perf_counter()

    surname = customer.name.split()[-1].lower()
    expires_before = base + timedelta(days=365 + 3)  # the oldest keys: about 3/730 of them
    return {
        "database": database,
        "size": size,
        "url": url,
        "customers": count,
        "keys": count,
        "seed_seconds": round(finished - started, 1),
        "seed_breakdown_seconds": {"schema": round(migrated - started, 1),
                                   "bulk_inserts": round(bulk_done - migrated, 1),
                                   "analyze_and_rest": round(finished - bulk_done, 1)},
        "vendor_slug": "bench.example",
        "vendor_email": "owner@bench.example",
        "vendor_password": VENDOR_PASSWORD,
        "customer_email": customer.email,
        "customer_password": CUSTOMER_PASSWORD,
        "dashboard_customer_id": customer.id,
        "product_id": product.id,
        "queries": {
            "customer_search_id": str(count // 3),
            "customer_search_email": customer.email.split(".")[0] + "." + surname[:4],
            "customer_search_name": surname,
            "key_search_id": f"id={count // 3}",
            "key_search_key": f'key="{middle.key}"',
            "key_search_customer": f"customer={customer.id}",
            "key_search_expires": f"expires < DateTime({expires_before.year},{expires_before.month},"
                                  f"{expires_before.day})",
        },
    }


def _fresh_database(database: str, url: str) -> None:
    if database == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')


def _migrate(url: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = url
    command.upgrade(config, "head")


def _word_tables(execute) -> None:
    """Small lookup tables the INSERT … SELECTs join on `n % size`; dropped again at the end."""
    for table, words in (("bench_first", FIRST_NAMES), ("bench_last", LAST_NAMES),
                         ("bench_suffix", COMPANY_SUFFIXES)):
        execute(f"CREATE TABLE {table} (i INTEGER PRIMARY KEY, word TEXT NOT NULL)", None)
        execute(f"INSERT INTO {table} (i, word) VALUES (?, ?)", list(enumerate(words)))


def _customer_select(series: str, *, lower: str, seconds: str, vendor: int, first_id: int, rows: int,
                     step: float) -> str:
    """The customers n = 1..rows: id first_id + n - 1, a first name, a surname, a company, an e-mail."""
    f, ln, s = len(FIRST_NAMES), len(LAST_NAMES), len(COMPANY_SUFFIXES)
    return f"""
        SELECT n, {first_id} - 1 + n AS id, {vendor} AS vendor_id, f.word || ' ' || l.word AS name,
               {lower}(f.word) || '.' || {lower}(l.word) || '.' || n || '@example.test' AS email,
               c.word || ' ' || s.word AS company_name, {seconds.format(offset=f"n * {step}")} AS created,
               f.word AS first, l.word AS last, c.word AS company, s.word AS suffix
        FROM {series}
        JOIN bench_first f ON f.i = n % {f}
        JOIN bench_last l ON l.i = (n / {f}) % {ln}
        JOIN bench_last c ON c.i = (n * 7 + 3) % {ln}
        JOIN bench_suffix s ON s.i = n % {s}"""


def _statements(*, series: str, lower: str, seconds: str, random_key: str, secret: str, false: str,
                search_index: str, vendor: int, product: int, first_id: int, rows: int,
                dashboard: int | None, key_series: str | None = None) -> list[str]:
    """Customers, their search words and keys for one vendor, as INSERT … SELECT statements. The keys are made
    over `key_series` (default: `series`), which may compute columns `random_key` reads."""
    step = round(730 * 86400 / rows, 3)
    customers = _customer_select(series, lower=lower, seconds=seconds, vendor=vendor, first_id=first_id,
                                 rows=rows, step=step)
    # The customer's name and company words as portal/customer_search/index.py writes them, lowercased and
    # distinct: one row of all of them in SQLite's FTS5 table, a row per word in PostgreSQL's word table.
    if search_index == "fts5":  # each word after its vendor's part, `0000000042_paul`
        part = "printf('%010d_', vendor_id)"
        words = f"""INSERT INTO {FTS_TABLE} (rowid, words)
            WITH c AS ({customers})
            SELECT id, {part} || {lower}(first) || ' ' || {part} || {lower}(last)
                   || CASE WHEN company = last THEN '' ELSE ' ' || {part} || {lower}(company) END
                   || ' ' || {part} || {lower}(suffix) FROM c"""
    else:  # a row per word, each carrying all of the customer's words
        each = " UNION ".join(f"SELECT vendor_id, {lower}({column}) AS word, id, every FROM c"
                              for column in ("first", "last", "company", "suffix"))
        every = (f"{lower}(first) || ' ' || {lower}(last) || CASE WHEN company = last THEN '' "
                 f"ELSE ' ' || {lower}(company) END || ' ' || {lower}(suffix)")
        # In customer order, as the portal writes them: sorting 4 million rows by word first cost 25 s here, more
        # than twice what sorted rows save when the primary key is built.
        words = f"""INSERT INTO {WORD_TABLE} (vendor_id, word, customer_id, words)
            WITH c AS (SELECT *, {every} AS every FROM ({customers}) AS customers)
            SELECT vendor_id, word, id, every FROM ({each}) AS w"""
    # Key n belongs to customer n, except the last keys, which make up the dashboard customer's 20.
    owner = (f"CASE WHEN n > {rows - DASHBOARD_KEYS + 1} THEN {dashboard} ELSE {first_id} - 1 + n END"
             if dashboard else f"{first_id} - 1 + n")
    return [
        f"""INSERT INTO customer (id, vendor_id, name, email, email_normalized, company_name, notes, created,
                enable_customer_association, allow_activation_management, allow_multiple_user_association,
                max_no_of_devices, secret, origin)
            SELECT id, vendor_id, name, email, {lower}(email), company_name, '', created, {false}, {false},
                   {false}, 0, {secret}, 'vendor'
            FROM ({customers}) AS customers""",
        words,
        f"""INSERT INTO license_key (vendor_id, product_id, key_number, key, customer_id, created, expires, period,
                f1, f2, f3, f4, f5, f6, f7, f8, notes, block, trial_activation, max_no_of_machines,
                allowed_machines)
            SELECT {vendor}, {product}, n, {random_key}, {owner},
                   {seconds.format(offset=f"n * {step}")}, {seconds.format(offset=f"n * {step} + 365 * 86400")},
                   365, n % 2 = 0, n % 3 = 0, n % 5 = 0, {false}, {false}, {false}, {false}, {false}, '', {false},
                   {false}, CASE WHEN n % 4 = 0 THEN 3 ELSE 0 END, ''
            FROM {key_series or series}""",
        f"UPDATE product SET next_key_number = {rows + 1} WHERE id = {product}",
    ]


def _bulk_sqlite(url: str, plan: list, base: datetime) -> None:
    connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
    # One writer and nothing to recover: no journal, no fsync, a big page cache.
    for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1048576", "temp_store=MEMORY"):
        connection.execute(f"PRAGMA {pragma}")
    connection.execute("BEGIN")
    _word_tables(lambda sql, rows: connection.executemany(sql, rows) if rows else connection.execute(sql))
    stamp = base.strftime("%Y-%m-%d %H:%M:%S")
    for vendor, product, first_id, rows, dashboard in plan:
        hex_letters = "hex(randomblob(10))"
        for digit, letter in zip("0123456789", "GHIJKLMNOP", strict=True):
            hex_letters = f"replace({hex_letters}, '{digit}', '{letter}')"
        random_key = " || '-' || ".join(f"substr({hex_letters}, 1, 5)" for _ in range(4))
        for statement in _statements(
                series=f"(WITH RECURSIVE numbers(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM numbers "
                       f"WHERE n < {rows}) SELECT n FROM numbers)",
                lower="lower", seconds=f"strftime('%Y-%m-%d %H:%M:%S.000000', '{stamp}', '+' || "
                                       "CAST({offset} AS INTEGER) || ' seconds')",
                random_key=random_key, secret="lower(hex(randomblob(16)))", false="0",  # noqa: S106
                search_index="fts5",
                vendor=vendor, product=product, first_id=first_id, rows=rows, dashboard=dashboard):
            connection.execute(statement)
    for table in ("bench_first", "bench_last", "bench_suffix"):
        connection.execute(f"DROP TABLE {table}")
    connection.execute("COMMIT")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()


def _bulk_postgresql(url: str, plan: list, base: datetime) -> None:
    with psycopg.connect(url) as connection:
        connection.execute("SET maintenance_work_mem = '512MB'")
        connection.execute("SET work_mem = '256MB'")
        with connection.cursor() as cursor:
            _word_tables(lambda sql, rows: cursor.executemany(sql.replace("?", "%s"), rows) if rows
                         else cursor.execute(sql))
        restore = _drop_constraints_and_indexes(connection, BULK_TABLES)
        stamp = base.isoformat()
        for vendor, product, first_id, rows, dashboard in plan:
            hex_letters = (f"translate(upper(substr(md5(n::text || 'key' || {vendor}), 1, 20)), '0123456789', "
                           "'GHIJKLMNOP')")
            # The 20 letters computed once per key and cut in four (OFFSET 0 keeps the planner from inlining the
            # expression into each of the four pieces): 7 s instead of 22 s for a million keys here.
            key_series = (f"(SELECT n, {hex_letters} AS letters FROM generate_series(1, {rows}) AS n OFFSET 0) "
                          "AS numbered")
            random_key = " || '-' || ".join(f"substr(letters, {start}, 5)" for start in (1, 6, 11, 16))
            for statement in _statements(
                    series=f"generate_series(1, {rows}) AS n", key_series=key_series,
                    lower="lower", seconds=f"(timestamptz '{stamp}' + ({{offset}}) * interval '1 second')",
                    random_key=random_key, secret=f"md5('secret' || n || '-' || {vendor})", false="false",
                    search_index="words",
                    vendor=vendor, product=product, first_id=first_id, rows=rows, dashboard=dashboard):
                connection.execute(statement)
        for statement in restore:
            connection.execute(statement)
        for table in ("bench_first", "bench_last", "bench_suffix"):
            connection.execute(f"DROP TABLE {table}")
        for table in ("customer", "license_key"):
            connection.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))")


BULK_TABLES = ("customer", WORD_TABLE, "license_key")


def _drop_constraints_and_indexes(connection, tables: tuple[str, ...]) -> list[str]:
    """Drop the big tables' keys, indexes and every foreign key, and return the statements that put them back.

    Building an index once over sorted rows is several times faster than keeping it up to date row by row, and
    the foreign keys are checked once, in bulk, when they are added back. The definitions come from the
    catalogue, so what is restored is exactly what the migrations made.
    """
    foreign = connection.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND connamespace = 'public'::regnamespace").fetchall()
    keys = connection.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype IN ('p', 'u') AND conrelid::regclass::text = ANY(%s) ORDER BY contype", (list(tables),)
    ).fetchall()
    indexes = connection.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = ANY(%s) "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))", (list(tables),)
    ).fetchall()
    for table, name, _ in foreign + keys:
        connection.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        connection.execute(f'DROP INDEX "{name}"')
    return ([f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in keys]
            + [definition for _, definition in indexes]
            + [f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in foreign])


def _analyze(database: str, url: str) -> None:
    """ANALYZE, then write everything out, so no checkpoint or write-back of the seeding runs during the load."""
    if database == "sqlite":
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
    else:
        # VACUUM too: it sets the visibility map (index-only scans), and autovacuum will not start mid-run.
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM (ANALYZE)")
            connection.execute("CHECKPOINT")
    os.sync()


if __name__ == "__main__":
    sys.exit(main())
