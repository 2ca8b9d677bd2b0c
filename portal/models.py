"""The domain nouns, in one module so that every package imports them from one place."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# utcnow, ID_MAX and new_session_secret are imported from here too; UTCDateTime is named by the first migrations.
from portal.columns import (  # noqa: F401
    BYTE_ORDER_TEXT,
    ID_MAX,
    NEVER_REUSE_IDS,
    SESSION_SECRET_MAX,
    UTCDateTime,
    fk,
    new_session_secret,
    utcnow,
    when,
)

NAME_MAX = 100
NOTES_MAX = 1000
DATA_STRING_MAX = 10_000
EMAIL_MAX = 254
URL_MAX = 2048


class Vendor(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=63, sa_column_kwargs={"unique": True})
    name: str = Field(max_length=NAME_MAX)
    portal_enabled: bool = True
    signup_enabled: bool = True
    # Block keys past their expiry (keys managed by a Stripe subscription excepted).
    block_expired_keys: bool = False
    # Mail a customer when a new license is waiting in the portal (a subscription's key, a repair, a key made for
    # them or moved to them on the vendor's pages): portal/keys/notify.py.
    mail_new_licenses: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    # Remind a customer this many days before a key of theirs expires (0: never); portal/keys/reminders.py.
    remind_days_before_expiry: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    # The portal's look (portal/branding): each empty when not set. The logo's bytes are in vendor_logo; its version
    # (a hash of the bytes) is here, so that every portal page knows its address without loading it.
    accent_color: str = Field(default="", max_length=7, sa_column_kwargs={"server_default": ""})
    support_contact: str = Field(default="", max_length=URL_MAX, sa_column_kwargs={"server_default": ""})
    site_url: str = Field(default="", max_length=URL_MAX, sa_column_kwargs={"server_default": ""})
    logo_version: str = Field(default="", max_length=16, sa_column_kwargs={"server_default": ""})


class VendorLogo(SQLModel, table=True):
    """The vendor's logo as the portal serves it: re-encoded PNG, JPEG or WebP bytes (never what was uploaded)."""

    __tablename__ = "vendor_logo"
    vendor_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("vendor.id", ondelete="CASCADE"),
                                               primary_key=True))
    content_type: str = Field(max_length=16)
    data: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    updated: datetime = Field(default_factory=utcnow, sa_column=when())


class VendorUser(SQLModel, table=True):
    __tablename__ = "vendor_user"
    __table_args__ = (NEVER_REUSE_IDS,)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id"))
    email: str = Field(max_length=EMAIL_MAX, sa_column_kwargs={"unique": True})
    name: str = Field(default="", max_length=NAME_MAX)
    password_hash: str
    session_secret: str = Field(default_factory=new_session_secret, max_length=SESSION_SECRET_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=when())


class Customer(SQLModel, table=True):
    __table_args__ = (
        sa.Index("ix_customer_vendor_id_id", "vendor_id", "id"),
        sa.Index("ix_customer_vendor_email", "vendor_id", "email_normalized"),
        sa.Index("ix_customer_vendor_email_domain", "vendor_id", "email_domain", "id"),
        sa.UniqueConstraint("vendor_id", "secret", name="uq_customer_vendor_secret"),
        NEVER_REUSE_IDS,
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    name: str = Field(default="", max_length=NAME_MAX)
    email: str = Field(default="", max_length=NAME_MAX)
    email_normalized: str = Field(default="", sa_column=sa.Column(BYTE_ORDER_TEXT, nullable=False))
    # What follows the last @ of email_normalized: the customer search finds `@example.com` by it.
    email_domain: str = Field(default="", sa_column=sa.Column(BYTE_ORDER_TEXT, nullable=False, server_default=""))
    company_name: str = Field(default="", max_length=NAME_MAX)
    notes: str = Field(default="", max_length=NOTES_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    enable_customer_association: bool = False
    allow_activation_management: bool = False
    allow_multiple_user_association: bool = False
    max_no_of_devices: int = 0
    secret: str = Field(max_length=64)
    association_code_encrypted: str | None = None
    association_used_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    # When the vendor last mailed the association link, and to whom (cleared when the link changes).
    association_mailed_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    association_mailed_to: str = Field(default="", max_length=NAME_MAX, sa_column_kwargs={"server_default": ""})
    # "vendor", "signup", "api" or "stripe": how the record came to be.
    origin: str = Field(default="vendor", max_length=16)


class PortalAccount(SQLModel, table=True):
    __tablename__ = "portal_account"
    __table_args__ = (sa.UniqueConstraint("vendor_id", "email_normalized", name="uq_portal_account_email"),
                      NEVER_REUSE_IDS)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    customer_id: int = Field(sa_column=fk("customer.id"))
    email: str = Field(max_length=EMAIL_MAX)
    email_normalized: str = Field(max_length=EMAIL_MAX)
    name: str = Field(default="", max_length=NAME_MAX)
    password_hash: str
    email_verified_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    session_secret: str = Field(default_factory=new_session_secret, max_length=SESSION_SECRET_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    last_login_at: datetime | None = Field(default=None, sa_column=when(nullable=True))


class AccountToken(SQLModel, table=True):
    """A single-use token mailed to an account (e-mail verification, password reset); only its hash is kept."""

    __tablename__ = "account_token"
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(sa_column=fk("portal_account.id"))
    purpose: str = Field(max_length=32)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    expires_at: datetime = Field(sa_column=when())
    used_at: datetime | None = Field(default=None, sa_column=when(nullable=True))


class PendingLogin(SQLModel, table=True):
    """A login asked for by e-mail, on the sign-up page or with an association link: nothing is made (no customer,
    no login, no use of the link) until the mailed link is opened. Only the token's hash is kept."""

    __tablename__ = "pending_login"
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id"))
    # With an association link: the customer to join, and its link's code as it was (a new code ends the request).
    customer_id: int | None = Field(default=None, sa_column=fk("customer.id", nullable=True))
    association_code_encrypted: str | None = None
    name: str = Field(default="", max_length=NAME_MAX)
    email: str = Field(max_length=NAME_MAX)
    company_name: str = Field(default="", max_length=NAME_MAX)
    password_hash: str
    # None while the request waits for its job (portal/signup/pending.py): no link is mailed yet.
    token_hash: str | None = Field(default=None, max_length=64, sa_column_kwargs={"unique": True})
    # The portal's pages the job's mail links to, as the request saw them (JSON), and when its job was queued.
    pages: str = Field(default="{}", sa_column=sa.Column(sa.Text, nullable=False, server_default="{}"))
    queued_at: datetime = Field(default_factory=utcnow, sa_column=when())
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    expires_at: datetime = Field(sa_column=when(index=True))
    used_at: datetime | None = Field(default=None, sa_column=when(nullable=True))


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
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    referencer_type: int = 0
    referencer_id: int = 0
    name: str = Field(max_length=NAME_MAX)
    string_value: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    int_value: int = 0
    created: datetime = Field(default_factory=utcnow, sa_column=when())


class DataObjectReset(SQLModel, table=True):
    """When a product's `cryptolens_dobjreset` last set its keys' data objects of one name back (the day, UTC); kept
    with the product, so that deleting and adding the setting again does not top them up twice in one period."""

    __tablename__ = "data_object_reset"
    __table_args__ = (sa.UniqueConstraint("product_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    product_id: int = Field(sa_column=fk("product.id", index=False))
    name: str = Field(max_length=NAME_MAX)
    last_day: int = 0  # date.toordinal() of the last reset


class TermsAcceptance(SQLModel, table=True):
    __tablename__ = "terms_acceptance"
    __table_args__ = (sa.Index("ix_terms_acceptance_account_url", "account_id", "url"),)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id"))
    account_id: int = Field(sa_column=fk("portal_account.id", index=False))
    url: str = Field(max_length=URL_MAX)
    accepted_at: datetime = Field(default_factory=utcnow, sa_column=when())
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=512)


class AuditEvent(SQLModel, table=True):
    """Who changed what, when, with the record before and after, as JSON."""

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_subject", "vendor_id", "subject_type", "subject_id", "id"),
        # The activity page, newest first, whole or by who or what, and the home's counts of recent events.
        sa.Index("ix_audit_event_vendor_created", "vendor_id", "created", "id"),
        # It ends with the record kind, so that counting an action's events on keys reads no table row.
        sa.Index("ix_audit_event_vendor_action", "vendor_id", "action", "created", "id", "subject_type"),
        sa.Index("ix_audit_event_vendor_actor", "vendor_id", "actor", "created", "id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    actor: str = Field(max_length=120)
    action: str = Field(max_length=64)
    subject_type: str = Field(max_length=32)
    subject_id: int
    before: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    after: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    ip: str = Field(default="", max_length=64)
    created: datetime = Field(default_factory=utcnow, sa_column=when())


FEATURES = tuple(f"f{n}" for n in range(1, 9))
KEY_NOTES_MAX = 150
FEATURE_NAME_MAX = 50


def feature_label(n: int, name: str) -> str:
    """How feature F<n> is shown: the name the vendor gave it, else F<n>."""
    return name or f"F{n}"


class Product(SQLModel, table=True):
    __table_args__ = (sa.Index("ix_product_vendor_id_name", "vendor_id", "name"),)
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
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
    # Shown on the customer's license card: how to get started, and where to download the software (http or https).
    getting_started: str = Field(default="", max_length=NOTES_MAX, sa_column_kwargs={"server_default": ""})
    download_url: str = Field(default="", max_length=URL_MAX, sa_column_kwargs={"server_default": ""})
    # The next per-product key `ID`, taken with one atomic UPDATE … RETURNING, never max(id) + 1.
    next_key_number: int = 1
    created: datetime = Field(default_factory=utcnow, sa_column=when())

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
        # A bulk creation's keys (`batch = 12`) in ID order; also the index of the column's foreign key.
        sa.Index("ix_license_key_product_batch", "product_id", "batch_id", "key_number"),
        # The expiry sweep, and the vendor home's key counts (renews_on: "expiring" leaves out renewing keys).
        sa.Index("ix_license_key_expiry_sweep", "vendor_id", "block", "expires", "renews_on"),
        # key/CreateTrialKey: one trial key per machine and product, found again even once deactivated.
        sa.Index("uq_license_key_product_trial_machine", "product_id", "trial_machine", unique=True),
        NEVER_REUSE_IDS,  # an id is the key's GlobalId, which Stripe's metadata and vendors' software keep
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    product_id: int = Field(sa_column=fk("product.id", index=False))
    key_number: int
    key: str = Field(max_length=23)
    customer_id: int | None = Field(default=None, sa_column=fk("customer.id", ondelete="SET NULL", nullable=True,
                                                                  index=False))
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    expires: datetime = Field(sa_column=when())
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
    # How many machines have started the key's countdown from activation (portal/keys/countdown.py), deactivated
    # ones included: at most max_no_of_machines ever do, so freeing a slot starts no new period.
    countdown_starts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The machine code a key of key/CreateTrialKey was made for (None for every other key).
    trial_machine: str | None = Field(default=None, max_length=200)
    allowed_machines: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    # While a live Stripe subscription pays for the key: the day it renews (written only with the subscription's
    # record, portal/billing/sync.py), so that every page says "Renews on …" rather than "Expires within 14 days".
    renews_on: datetime | None = Field(default=None, sa_column=when(nullable=True))
    # The expiry a reminder was mailed for (portal/keys/reminders.py): a moved expiry is a new one to remind of.
    reminded_expiry: datetime | None = Field(default=None, sa_column=when(nullable=True))
    # The bulk creation that made the key (None for a key made alone): `batch = 12` in the key search.
    batch_id: int | None = Field(default=None, sa_column=fk("key_batch.id", ondelete="SET NULL", nullable=True,
                                                            index=False))


class ActivatedMachine(SQLModel, table=True):
    __tablename__ = "activated_machine"
    __table_args__ = (sa.UniqueConstraint("key_id", "mid", name="uq_activated_machine_key_mid"), NEVER_REUSE_IDS)
    id: int | None = Field(default=None, primary_key=True)
    key_id: int = Field(sa_column=fk("license_key.id", index=False))
    mid: str = Field(max_length=200)
    ip: str = Field(default="", max_length=64)
    time: datetime = Field(default_factory=utcnow, sa_column=when())
    friendly_name: str = Field(default="", max_length=NAME_MAX)
    floating_expires: datetime | None = Field(default=None, sa_column=when(nullable=True))


class KeyBatch(SQLModel, table=True):
    """A bulk creation of keys run as a background job, committed in whole batches so it can resume."""

    __tablename__ = "key_batch"
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id", index=False))
    product_id: int = Field(sa_column=fk("product.id"))
    requested: int
    created_count: int = 0
    # queued, running, done or failed; a running batch whose heartbeat stopped is shown as interrupted.
    status: str = Field(default="queued", max_length=16)
    settings: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    error: str = Field(default="", max_length=NOTES_MAX)
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    heartbeat_at: datetime | None = Field(default=None, sa_column=when(nullable=True))


class OutgoingMail(SQLModel, table=True):
    """A mail written in the transaction of the change it tells about: sent by a job once that commits, and by the
    periodic sweep if that job was lost (a killed consumer), so every mail goes out at least once."""

    __tablename__ = "outgoing_mail"
    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=EMAIL_MAX)
    subject: str = Field(max_length=NOTES_MAX)
    template: str = Field(max_length=100)
    context: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # JSON: the template's plain values
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    # When a job last took it (the sweep leaves a mail alone for a while after); sent_at once the relay took it.
    claimed_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=when(nullable=True, index=True))
    attempts: int = 0
