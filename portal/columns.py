"""The column types and helpers every table uses: times in UTC, foreign keys, ids that are never reused."""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

# Ids are INTEGER columns, 32-bit on PostgreSQL: a larger number names nothing and must not reach a query.
ID_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_session_secret() -> str:
    """What a login's cookie must show besides the login's id: 256 random bits, drawn again to end its sessions."""
    return secrets.token_urlsafe(32)


SESSION_SECRET_MAX = 64
# SQLite reuses the highest row id after a delete unless a table says AUTOINCREMENT: the tables whose ids a cookie
# or a link names, or that other records and vendors' software keep (a key's GlobalId, a machine's data objects),
# never hand out an id twice (PostgreSQL's sequences never do).
NEVER_REUSE_IDS = {"sqlite_autoincrement": True}


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC that always comes back timezone-aware, on SQLite as on PostgreSQL."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: store times in UTC, timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def result_processor(self, dialect, coltype):
        # One function per value, not the default chain (the driver's or SQLAlchemy's conversion, then
        # process_result_value): a page of keys reads dozens of timestamps. SQLite hands over the stored text,
        # PostgreSQL (psycopg) an aware datetime.
        def in_utc(moment):
            return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

        if dialect.name == "sqlite":
            return lambda value: None if value is None else in_utc(datetime.fromisoformat(value))
        if dialect.name == "postgresql":
            return lambda value: None if value is None else in_utc(value)
        return super().result_processor(dialect, coltype)


def when(*, nullable: bool = False, index: bool = False):
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


def fk(target: str, *, ondelete: str = "CASCADE", nullable: bool = False, index: bool = True):
    return sa.Column(sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


# On PostgreSQL, byte-order collation makes `col >= 'ab' AND col < 'ac'` a prefix range an index can serve.
BYTE_ORDER_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
