"""A vendor's Stripe connection: connect with a key and a webhook secret, test it, set the policy, disconnect.

Both secrets are kept encrypted (the portal's Fernet helper) and shown again only by their last four characters.
"""

from dataclasses import dataclass

from sqlmodel import Session, select

from portal.audit import record_change
from portal.billing.gateway import Gateway, StripeRefused, StripeUnavailable, is_test_key, looks_like_key
from portal.billing_models import StripeConnection
from portal.domain import DomainError
from portal.models import Vendor, utcnow
from portal.security import Encryptor

# What the vendor's webhook endpoint in Stripe must send.
WEBHOOK_EVENTS = (
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
)
ON_CANCEL = {"expire": "Let the key run to its expiry", "block": "Block the key at once"}
GRACE_DAYS_MAX = 60


@dataclass(frozen=True)
class StripeAccess:
    """What opening a vendor's Stripe takes: the key to its secrets, and where Stripe (or the stand-in) is."""

    encryptor: Encryptor
    api_base: str | None = None

    def gateway(self, connection: StripeConnection) -> Gateway:
        secret_key = self.encryptor.decrypt(connection.secret_key_encrypted or "")
        if not connection.connected or secret_key is None:
            raise DomainError("Connect Stripe first.")
        return Gateway(secret_key, api_base=self.api_base)

    def webhook_secret(self, connection: StripeConnection | None) -> str | None:
        if connection is None or not connection.connected:
            return None
        return self.encryptor.decrypt(connection.webhook_secret_encrypted)


def connection_of(session: Session, *, vendor_id: int) -> StripeConnection:
    """The vendor's connection record (unsaved and unconnected if the vendor never had one)."""
    connection = session.exec(select(StripeConnection).where(StripeConnection.vendor_id == vendor_id)).first()
    return connection or StripeConnection(vendor_id=vendor_id)


def connected(session: Session, *, vendor_id: int) -> StripeConnection | None:
    connection = connection_of(session, vendor_id=vendor_id)
    return connection if connection.connected else None


def connected_vendors(session: Session, slug: str | None = None) -> list[tuple[Vendor, StripeConnection]]:
    """The vendors with Stripe connected (or the one with this slug), with their connections."""
    statement = (select(Vendor, StripeConnection).join(StripeConnection, StripeConnection.vendor_id == Vendor.id)
                 .where(StripeConnection.secret_key_encrypted.is_not(None)).order_by(Vendor.slug))
    if slug:
        statement = statement.where(Vendor.slug == slug)
    return [(vendor, connection) for vendor, connection in session.exec(statement).all() if connection.connected]


def _valid_secrets(secret_key: str, webhook_secret: str) -> tuple[str, str]:
    secret_key, webhook_secret = secret_key.strip(), webhook_secret.strip()
    if not looks_like_key(secret_key):
        raise DomainError("Paste a secret key (sk_…) or a restricted key (rk_…) from Stripe's API keys page.",
                          field="secret_key")
    if not webhook_secret.startswith("whsec_") or len(webhook_secret) > 255:
        raise DomainError("Paste the endpoint's signing secret (whsec_…) from Stripe's webhooks page.",
                          field="webhook_secret")
    return secret_key, webhook_secret


def connect(session: Session, access: StripeAccess, *, vendor_id: int, secret_key: str, webhook_secret: str,
            actor: str, ip: str = "") -> StripeConnection:
    secret_key, webhook_secret = _valid_secrets(secret_key, webhook_secret)
    connection = connection_of(session, vendor_id=vendor_id)
    connection.secret_key_encrypted = access.encryptor.encrypt(secret_key)
    connection.webhook_secret_encrypted = access.encryptor.encrypt(webhook_secret)
    connection.secret_key_last4, connection.webhook_secret_last4 = secret_key[-4:], webhook_secret[-4:]
    connection.livemode = not is_test_key(secret_key)
    connection.account_name, connection.tested_at, connection.connected_at = "", None, utcnow()
    session.add(connection)
    session.flush()
    record_change(session, vendor_id=vendor_id, actor=actor, action="stripe.connected", subject_type="vendor",
                  subject_id=vendor_id, after={"secret_key": "…" + connection.secret_key_last4,
                                               "webhook_secret": "…" + connection.webhook_secret_last4}, ip=ip)
    return connection


def disconnect(session: Session, *, vendor_id: int, actor: str, ip: str = "") -> None:
    connection = connection_of(session, vendor_id=vendor_id)
    if connection.id is None:
        return
    connection.secret_key_encrypted = connection.webhook_secret_encrypted = None
    connection.secret_key_last4 = connection.webhook_secret_last4 = connection.account_name = ""
    connection.tested_at = connection.connected_at = None
    session.add(connection)
    record_change(session, vendor_id=vendor_id, actor=actor, action="stripe.disconnected", subject_type="vendor",
                  subject_id=vendor_id, ip=ip)


@dataclass
class TestResult:
    ok: bool
    message: str


def test_connection(session: Session, access: StripeAccess, *, vendor_id: int) -> TestResult:
    """Ask Stripe who the key belongs to; say what it found (account, test or live mode) or Stripe's own error."""
    connection = connected(session, vendor_id=vendor_id)
    if connection is None:
        return TestResult(False, "Stripe is not connected.")
    try:
        gateway = access.gateway(connection)
    except DomainError:
        return TestResult(False, "The stored key cannot be read (was ENCRYPTION_KEY changed?): connect again.")
    session.commit()  # no transaction open while Stripe answers
    try:
        account = gateway.account()
    except (StripeRefused, StripeUnavailable) as error:
        return TestResult(False, f"Stripe answered: {error}")
    profile = account.get("business_profile") or {}
    dashboard = (account.get("settings") or {}).get("dashboard") or {}
    name = profile.get("name") or dashboard.get("display_name") or account.get("email") or account.get("id", "")
    connection.account_name, connection.tested_at = str(name)[:200], utcnow()
    session.add(connection)
    mode = "test mode" if gateway.test_mode else "live mode"
    return TestResult(True, f"Connected to {connection.account_name} ({account.get('id', '')}), in {mode}.")


def set_policy(session: Session, *, vendor_id: int, grace_days: int, on_cancel: str, actor: str,
               ip: str = "") -> StripeConnection:
    if not 0 <= grace_days <= GRACE_DAYS_MAX:
        raise DomainError(f"Give between 0 and {GRACE_DAYS_MAX} days.", field="grace_days")
    if on_cancel not in ON_CANCEL:
        raise DomainError("Choose what happens to the key.", field="on_cancel")
    connection = connection_of(session, vendor_id=vendor_id)
    before = {"grace_days": connection.grace_days, "on_cancel": connection.on_cancel}
    connection.grace_days, connection.on_cancel = grace_days, on_cancel
    session.add(connection)
    session.flush()
    record_change(session, vendor_id=vendor_id, actor=actor, action="stripe.policy_changed", subject_type="vendor",
                  subject_id=vendor_id, before=before, after={"grace_days": grace_days, "on_cancel": on_cancel},
                  ip=ip)
    return connection
