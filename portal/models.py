"""The domain nouns, in one module so that every package imports them from one place."""

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

NAME_MAX = 100
NOTES_MAX = 1000
DATA_STRING_MAX = 10_000
EMAIL_MAX = 254
URL_MAX = 2048
# Ids are INTEGER columns, 32-bit on PostgreSQL: a larger number names nothing and must not reach a query.
ID_MAX = 2**31 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_session_secret() -> str:
    """What a login's cookie must show besides the login's id: 256 random bits, drawn again to end its sessions."""
    return secrets.token_urlsafe(32)


SESSION_SECRET_MAX = 64
# SQLite reuses the highest row id after a delete unless a table says AUTOINCREMENT: the tables whose ids a cookie
# or a link names never hand out an id twice (PostgreSQL's sequences never do).
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


def _when(*, nullable: bool = False, index: bool = False):
    return sa.Column(UTCDateTime(), nullable=nullable, index=index)


def _fk(target: str, *, ondelete: str = "CASCADE", nullable: bool = False, index: bool = True):
    return sa.Column(sa.Integer, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


# On PostgreSQL, byte-order collation makes `col >= 'ab' AND col < 'ac'` a prefix range an index can serve.
_BYTE_ORDER_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")


class Vendor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=63, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=NAME_MAX)
    portal_enabled: bool = True
    signup_enabled: bool = True
    # Block keys past their expiry (keys managed by a Stripe subscription excepted).
    block_expired_keys: bool = False
    created: datetime = Field(default_factory=utcnow, sa_column=_when())


class VendorUser(SQLModel, table=True):
    __tablename__ = "vendor_user"
    __table_args__ = (NEVER_REUSE_IDS,)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id"))
    email: str = Field(max_length=EMAIL_MAX, sa_column_kwargs={"unique": True})
    name: str = Field(default="", max_length=NAME_MAX)
    password_hash: str
    session_secret: str = Field(default_factory=new_session_secret, max_length=SESSION_SECRET_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=_when())


class Customer(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_customer_vendor_id_id", "vendor_id", "id"),
        sa.Index("ix_customer_vendor_email", "vendor_id", "email_normalized"),
        sa.UniqueConstraint("vendor_id", "secret", name="uq_customer_vendor_secret"),
        NEVER_REUSE_IDS,
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id", index=False))
    name: str = Field(default="", max_length=NAME_MAX)
    email: str = Field(default="", max_length=NAME_MAX)
    email_normalized: str = Field(default="", sa_column=sa.Column(_BYTE_ORDER_TEXT, nullable=False))
    company_name: str = Field(default="", max_length=NAME_MAX)
    notes: str = Field(default="", max_length=NOTES_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=_when())
    enable_customer_association: bool = False
    allow_activation_management: bool = False
    allow_multiple_user_association: bool = False
    max_no_of_devices: int = 0
    secret: str = Field(max_length=64)
    association_code_encrypted: str | None = None
    association_used_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    # "vendor", "signup", "api" or "stripe": how the record came to be.
    origin: str = Field(default="vendor", max_length=16)


class PortalAccount(SQLModel, table=True):
    __tablename__ = "portal_account"
    __table_args__ = (sa.UniqueConstraint("vendor_id", "email_normalized", name="uq_portal_account_email"),
                      NEVER_REUSE_IDS)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id", index=False))
    customer_id: int = Field(sa_column=_fk("customer.id"))
    email: str = Field(max_length=EMAIL_MAX)
    email_normalized: str = Field(max_length=EMAIL_MAX)
    name: str = Field(default="", max_length=NAME_MAX)
    password_hash: str
    email_verified_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    session_secret: str = Field(default_factory=new_session_secret, max_length=SESSION_SECRET_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=_when())
    last_login_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class AccountToken(SQLModel, table=True):
    """A single-use token mailed to an account (e-mail verification, password reset); only its hash is kept."""

    __tablename__ = "account_token"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=_fk("portal_account.id"))
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when())
    used_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class PendingLogin(SQLModel, table=True):
    """A login asked for by e-mail, on the sign-up page or with an association link: nothing is made (no customer,
    no login, no use of the link) until the mailed link is opened. Only the token's hash is kept."""

    __tablename__ = "pending_login"
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id"))
    # With an association link: the customer to join, and its link's code as it was (a new code ends the request).
    customer_id: int | None = Field(default=None, sa_column=_fk("customer.id", nullable=True))
    association_code_encrypted: str | None = None
    name: str = Field(default="", max_length=NAME_MAX)
    email: str = Field(max_length=NAME_MAX)
    company_name: str = Field(default="", max_length=NAME_MAX)
    password_hash: str
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when(index=True))
    used_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class DataObject(SQLModel, table=True):
    """A named value attached to a vendor (referencer type 0), a product (1) or a key (2)."""

    __tablename__ = "data_object"
    __table_args__ = (
        sa.Index("ix_data_object_owner", "vendor_id", "referencer_type", "referencer_id", "name"),
        sa.Index(
            "uq_data_object_reserved_name", "vendor_id", "referencer_type", "referencer_id", "name",
            unique=True,
            sqlite_where=sa.text("substr(name, 1, 11) = 'cryptolens_'"),
            postgresql_where=sa.text("substr(name, 1, 11) = 'cryptolens_'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id", index=False))
    referencer_type: int = 0
    referencer_id: int = 0
    name: str = Field(max_length=NAME_MAX)
    string_value: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    int_value: int = 0
    created: datetime = Field(default_factory=utcnow, sa_column=_when())


class TermsAcceptance(SQLModel, table=True):
    __tablename__ = "terms_acceptance"
    __table_args__ = (sa.Index("ix_terms_acceptance_account_url", "account_id", "url"),)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id"))
    account_id: int = Field(sa_column=_fk("portal_account.id", index=False))
    url: str = Field(max_length=URL_MAX)
    accepted_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, with the record before and after, as JSON."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_subject", "vendor_id", "subject_type", "subject_id", "id"),)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id", index=False))
    actor: str = Field(max_length=120)
    action: str = Field(max_length=64)
    subject_type: str = Field(max_length=32)
    subject_id: int
    before: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    after: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    ip: str = Field(default="", max_length=64)
    created: datetime = Field(default_factory=utcnow, sa_column=_when())


FEATURES = tuple(f"f{n}" for n in range(1, 9))
KEY_NOTES_MAX = 150
FEATURE_NAME_MAX = 50


def feature_label(n: int, name: str) -> str:
    """How feature F<n> is shown: the name the vendor gave it, else F<n>."""
    return name or f"F{n}"


class Product(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_product_vendor_id_name", "vendor_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id", index=False))
    name: str = Field(max_length=NAME_MAX)
    description: str = Field(default="", max_length=NOTES_MAX)
    f1_name: str = Field(default="", max_length=FEATURE_NAME_MAX)
    f2_name: str = Field(default="", max_length=FEATURE_NAME_MAX)
    f3_name: str = Field(default="", max_length=FEATURE_NAME_MAX)
    f4_name: str = Field(default="", max_length=FEATURE_NAME_MAX)
    f5_name: str = Field(default="", max_length=FEATURE_NAME_MAX)
    f6_name: str = Field(default="", max_length=FEATURE_NAME_MAX)
    f7_name: str = Field(default="", max_length=FEATURE_NAME_MAX)
    f8_name: str = Field(default="", max_length=FEATURE_NAME_MAX)
    # The next per-product key `ID`, taken with one atomic UPDATE … RETURNING, never max(id) + 1.
    next_key_number: int = 1
    created: datetime = Field(default_factory=utcnow, sa_column=_when())

    def feature_name(self, n: int) -> str:
        return feature_label(n, getattr(self, f"f{n}_name"))

    def feature_names_of(self, key) -> list[str]:
        """The names of the features F1-F8 that `key` (a LicenseKey or a row of its columns) has on."""
        return [self.feature_name(n) for n in range(1, 9) if getattr(key, f"f{n}")]


class LicenseKey(SQLModel, table=True):
    """A license key. `id` is Cryptolens' `GlobalId`; `key_number` is its per-product `ID` (`skm_key_id`)."""

    __tablename__ = "license_key"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "key_number", name="uq_license_key_product_number"),
        sa.UniqueConstraint("product_id", "key", name="uq_license_key_product_key"),
        sa.Index("ix_license_key_product_customer", "product_id", "customer_id", "key_number"),
        sa.Index("ix_license_key_product_expires", "product_id", "expires", "key_number"),
        sa.Index("ix_license_key_product_created", "product_id", "created", "key_number"),
        sa.Index("ix_license_key_customer", "customer_id", "product_id", "key_number"),
        sa.Index("ix_license_key_expiry_sweep", "vendor_id", "block", "expires"),
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id", index=False))
    product_id: int = Field(sa_column=_fk("product.id", index=False))
    key_number: int
    key: str = Field(max_length=23)
    customer_id: int | None = Field(default=None, sa_column=_fk("customer.id", ondelete="SET NULL", nullable=True,
                                                                  index=False))
    created: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires: datetime = Field(sa_column=_when())
    period: int = 0
    f1: bool = False
    f2: bool = False
    f3: bool = False
    f4: bool = False
    f5: bool = False
    f6: bool = False
    f7: bool = False
    f8: bool = False
    notes: str = Field(default="", max_length=KEY_NOTES_MAX)
    block: bool = False
    trial_activation: bool = False
    max_no_of_machines: int = 0
    allowed_machines: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))


class ActivatedMachine(SQLModel, table=True):
    __tablename__ = "activated_machine"
    __table_args__ = (sa.UniqueConstraint("key_id", "mid", name="uq_activated_machine_key_mid"),)
    id: int | None = Field(default=None, primary_key=True)
    key_id: int = Field(sa_column=_fk("license_key.id", index=False))
    mid: str = Field(max_length=200)
    ip: str = Field(default="", max_length=64)
    time: datetime = Field(default_factory=utcnow, sa_column=_when())
    friendly_name: str = Field(default="", max_length=NAME_MAX)
    floating_expires: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class KeyBatch(SQLModel, table=True):
    """A bulk creation of keys run as a background job, committed in whole batches so it can resume."""

    __tablename__ = "key_batch"
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=_fk("vendor.id", index=False))
    product_id: int = Field(sa_column=_fk("product.id"))
    requested: int
    created_count: int = 0
    # queued, running, done or failed; a running batch whose heartbeat stopped is shown as interrupted.
    status: str = Field(default="queued", max_length=16)
    settings: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    error: str = Field(default="", max_length=NOTES_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=_when())
    heartbeat_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
