"""The Web API's nouns: the vendors' access tokens and the RSA keys that sign license answers."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.columns import NEVER_REUSE_IDS, fk, utcnow, when
from portal.models import NAME_MAX

# Among a vendor's live tokens a name is one token's: the audit trail and the tokens page tell them apart by it.
_LIVE = sa.text("revoked_at IS NULL")


class ApiToken(SQLModel, table=True):
    """A Web API access token: only its SHA-256 hash is kept (checked on every call, so a fast hash)."""

    __tablename__ = "api_token"
    __table_args__ = (
        sa.Index("uq_api_token_live_name", "vendor_id", "name", unique=True, sqlite_where=_LIVE,
                 postgresql_where=_LIVE),
        NEVER_REUSE_IDS,
    )
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=fk("vendor.id"))
    name: str = Field(max_length=NAME_MAX)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    # The method groups it may call, space-separated (portal/api/tokens.py: GROUPS).
    scopes: str = Field(max_length=200)
    # Only this product's keys, when set.
    product_id: int | None = Field(default=None, sa_column=fk("product.id", nullable=True))
    created: datetime = Field(default_factory=utcnow, sa_column=when())
    revoked_at: datetime | None = Field(default=None, sa_column=when(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=when(nullable=True))


class SigningKey(SQLModel, table=True):
    """A vendor's 2048-bit RSA pair that signs the Web API's license answers; the private key Fernet-encrypted."""

    __tablename__ = "signing_key"
    id: int | None = Field(default=None, primary_key=True)
    vendor_id: int = Field(sa_column=sa.Column(sa.Integer, sa.ForeignKey("vendor.id", ondelete="CASCADE"),
                                               nullable=False, unique=True))
    # Base64 of the modulus' big-endian bytes: what `<RSAKeyValue><Modulus>` shows.
    modulus: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    private_key_encrypted: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    created: datetime = Field(default_factory=utcnow, sa_column=when())
