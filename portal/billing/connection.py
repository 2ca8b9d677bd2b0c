"""A vendor's Stripe connection: connect with a key and a webhook secret, test it, set the policy, disconnect.

Both secrets are kept encrypted (the portal's Fernet helper) and shown again only by their last four characters.
Connecting asks Stripe whose key it is: the account id (acct_…) and the key's mode say which of the vendor's Stripe
records the portal shows and uses from then on (portal/billing_models.py, StripeScoped).
"""

import re
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from portal.audit import record_change
from portal.billing.gateway import Gateway, StripeRefused, StripeUnavailable, is_test_key, looks_like_key
from portal.billing_models import (
    RENEWING,
    UNSEEN,
    StripeConnection,
    StripeCustomer,
    StripeDrift,
    StripeEvent,
    StripePrice,
    Subscription,
    of_the_connection,
)
from portal.domain import DomainError, each_checked
from portal.keys.managed import hidden_subscription_key_ids
from portal.keys.services import renew_key
from portal.models import LicenseKey, Vendor, utcnow
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
        secret_key = self.secret_key(connection)
        if secret_key is None:
            raise DomainError("Connect Stripe first.")
        return Gateway(secret_key, api_base=self.api_base)

    def secret_key(self, connection: StripeConnection) -> str | None:
        if not connection.connected:
            return None
        return self.encryptor.decrypt(connection.secret_key_encrypted or "")

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


def valid_secret_key(secret_key: str) -> str:
    secret_key = secret_key.strip()
    if not looks_like_key(secret_key):
        raise DomainError("Paste a secret key (sk_…) or a restricted key (rk_…) from Stripe's API keys page.",
                          field="secret_key")
    return secret_key


# Stripe's signing secrets are "whsec_" and a few dozen letters and digits: a prefix alone, or a secret with a space
# in it (cut from a page with another word), would make every delivery's signature fail, and no key be made.
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_+/=-]{8,249}")


def valid_webhook_secret(webhook_secret: str) -> str:
    webhook_secret = webhook_secret.strip()
    if not _WEBHOOK_SECRET.fullmatch(webhook_secret):
        raise DomainError("Paste the endpoint's signing secret (whsec_…) from Stripe's webhooks page.",
                          field="webhook_secret")
    return webhook_secret


def _account_name(account: dict) -> str:
    profile = account.get("business_profile") or {}
    dashboard = (account.get("settings") or {}).get("dashboard") or {}
    return str(profile.get("name") or dashboard.get("display_name") or account.get("email") or account.get("id", ""))


def _mode(livemode: bool) -> str:
    return "live mode" if livemode else "test mode"


def connected_to(connection: StripeConnection) -> str:
    """"Acme Ltd (acct_…), in live mode": the account and mode the portal's Stripe records are of."""
    account = connection.stripe_account_id or "account unknown"
    return f"{connection.account_name or 'Stripe'} ({account}), in {_mode(connection.livemode)}"


def _claim_unknown(session: Session, connection: StripeConnection, account_id: str) -> None:
    """The records kept before the portal knew the connection's account (those of its mode, with no account id) are
    that account's: it is learnt with the key they were read with."""
    for model in (StripeCustomer, StripePrice, Subscription):
        session.execute(update(model).where(model.vendor_id == connection.vendor_id,
                                            model.livemode == connection.livemode, model.stripe_account_id == "")
                        .values(stripe_account_id=account_id))


def _account_behind(access: StripeAccess, secret_key: str) -> dict:
    """The account a key belongs to, as Stripe says (GET /v1/account); its refusal in its own words."""
    try:
        return Gateway(secret_key, api_base=access.api_base).account()
    except StripeRefused as error:
        raise DomainError(f"Stripe answered: {error}", field="secret_key") from None
    except StripeUnavailable as error:
        raise DomainError(f"Stripe cannot be reached to check the key ({error}): try again in a minute.",
                          field="secret_key") from None


def _held_by_another(session: Session, vendor_id: int, account_id: str, livemode: bool) -> bool:
    """Whether another vendor has this Stripe account (and mode) connected. One account serves one vendor: Stripe
    sends each of its events to every webhook it has, and its customers, prices and subscriptions would show in both
    vendors' pages."""
    return bool(account_id) and session.exec(select(StripeConnection.id).where(
        StripeConnection.vendor_id != vendor_id, StripeConnection.stripe_account_id == account_id,
        StripeConnection.livemode == livemode, StripeConnection.secret_key_encrypted.is_not(None))).first() is not None


SHARED = "This Stripe account is connected to another vendor of this portal. Each vendor needs a Stripe account of " \
         "its own, as its customers and payments are the account's."


def _refuse_an_account_in_use(session: Session, access: StripeAccess, vendor_id: int, account_id: str,
                              livemode: bool) -> None:
    if _held_by_another(session, vendor_id, account_id, livemode):
        stand_in = " With the Stripe stand-in of make run, a test key of your own choosing (sk_test_ and eight " \
                   "letters or more) opens an account of its own." if access.api_base else ""
        raise DomainError(SHARED + stand_in, field="secret_key")


def _earlier_account(access: StripeAccess, connection: StripeConnection, secret_key: str, account: dict) -> str:
    """The account of the key being replaced, when the connection never learnt it (made before the portal kept it):
    asked of Stripe with that key; "" when it no longer answers."""
    earlier = access.secret_key(connection)
    if connection.stripe_account_id or earlier is None:
        return ""
    if earlier == secret_key:
        return account.get("id", "")
    try:
        return Gateway(earlier, api_base=access.api_base).account().get("id", "")
    except (StripeRefused, StripeUnavailable):
        return ""


def connect(session: Session, access: StripeAccess, *, vendor_id: int, secret_key: str, webhook_secret: str,
            actor: str, ip: str = "") -> StripeConnection:
    """Keep the key and the webhook secret, once Stripe has said whose key it is. Another account or mode than the
    connection's hides the records of the one before (they stay, and come back with its keys) and forgets what the
    last reconcile found."""
    checked = each_checked({"secret_key": lambda: valid_secret_key(secret_key),
                            "webhook_secret": lambda: valid_webhook_secret(webhook_secret)})
    secret_key, webhook_secret = checked["secret_key"], checked["webhook_secret"]
    connection = connection_of(session, vendor_id=vendor_id)
    session.commit()  # no transaction open while Stripe answers
    account = _account_behind(access, secret_key)
    _refuse_an_account_in_use(session, access, vendor_id, str(account.get("id", "")), not is_test_key(secret_key))
    earlier_account = _earlier_account(access, connection, secret_key, account)
    if earlier_account:
        _claim_unknown(session, connection, earlier_account)
        connection.stripe_account_id = earlier_account
    before = {"mode": _mode(connection.livemode), "account": connection.stripe_account_id}
    connection.secret_key_encrypted = access.encryptor.encrypt(secret_key)
    connection.webhook_secret_encrypted = access.encryptor.encrypt(webhook_secret)
    connection.secret_key_last4, connection.webhook_secret_last4 = secret_key[-4:], webhook_secret[-4:]
    connection.livemode = not is_test_key(secret_key)
    connection.stripe_account_id = str(account.get("id", ""))[:255]
    connection.account_name = _account_name(account)[:200]
    connection.tested_at = connection.connected_at = utcnow()
    after = {"mode": _mode(connection.livemode), "account": connection.stripe_account_id}
    switched = connection.id is not None and after != before
    if switched:
        session.execute(delete(StripeDrift).where(StripeDrift.vendor_id == vendor_id))
        connection.reconciled_at = None
    else:  # new secrets: what the old ones could not see is told again by the next event, if it still is so
        session.execute(delete(StripeDrift).where(StripeDrift.vendor_id == vendor_id, StripeDrift.kind == UNSEEN))
    session.add(connection)
    session.flush()
    if switched:
        _renewals_follow(session, connection, actor=actor, ip=ip)
    record_change(session, vendor_id=vendor_id, actor=actor, action="stripe.connected", subject_type="vendor",
                  subject_id=vendor_id, before=before if switched else None,
                  after={"secret_key": "…" + connection.secret_key_last4,
                         "webhook_secret": "…" + connection.webhook_secret_last4, **after}, ip=ip)
    return connection


def _renewals_follow(session: Session, connection: StripeConnection, *, actor: str, ip: str) -> None:
    """A key renews with its subscription only while the subscription is of the connection's account and mode. After
    a switch of keys, the keys of the subscriptions it hides no longer say "Renews on" (no event of theirs arrives any
    more: they expire, and are reminded, like any key); those of subscriptions it shows again say it once more, to
    the end of the period last read from Stripe while that is still to come (the next renewal's event moves it)."""
    hidden = session.exec(select(LicenseKey).where(LicenseKey.vendor_id == connection.vendor_id,
                                                   col(LicenseKey.id).in_(hidden_subscription_key_ids()),
                                                   col(LicenseKey.renews_on).is_not(None))).all()
    for key in hidden:
        renew_key(session, key=key, expires=key.expires, renews_on=None, actor=actor, ip=ip)
    shown = session.exec(select(LicenseKey, Subscription).join(Subscription, col(Subscription.key_id) == LicenseKey.id)
                         .where(Subscription.vendor_id == connection.vendor_id,
                                of_the_connection(Subscription, connection), col(LicenseKey.renews_on).is_(None),
                                col(Subscription.status).in_(RENEWING),
                                col(Subscription.cancel_at_period_end).is_(False),
                                col(Subscription.current_period_end) > utcnow())).all()
    for key, record in shown:
        renew_key(session, key=key, expires=key.expires, renews_on=record.current_period_end, actor=actor, ip=ip)


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
    undelivered = _undelivered_since_connecting(gateway, connection)
    connection.account_name, connection.tested_at = _account_name(account)[:200], utcnow()
    learn_account(session, connection, account)
    session.add(connection)
    if _held_by_another(session, vendor_id, connection.stripe_account_id, connection.livemode):
        # Connected before the portal refused a shared account: said here, for the vendor to connect another.
        return TestResult(False, f"Connected to {connected_to(connection)}, but: {SHARED}")
    missed = _never_received(session, vendor_id, undelivered)
    if missed:
        return TestResult(False, f"Connected to {connected_to(connection)}, but Stripe could not deliver {missed} "
                                 f"event{'s' if missed != 1 else ''} of your subscriptions to the portal since these "
                                 "keys were saved: check that the webhook endpoint in Stripe has the address below "
                                 "and that the signing secret saved here is that endpoint's. Until then a subscriber's "
                                 "key is made only by Needs attention (Check now, or its hourly run).")
    return TestResult(True, f"Connected to {connected_to(connection)}.")


def _undelivered_since_connecting(gateway: Gateway, connection: StripeConnection) -> list[str]:
    """The ids of the events the portal needs that Stripe has not delivered since the keys were saved (a key that
    may not list events is no answer)."""
    since = int(connection.connected_at.timestamp()) if connection.connected_at else None
    try:
        return [event["id"] for event in gateway.undelivered_events(since=since)
                if event.get("type") in WEBHOOK_EVENTS]
    except (StripeRefused, StripeUnavailable):
        return []


def _never_received(session: Session, vendor_id: int, event_ids: list[str]) -> int:
    """How many of the events never reached the webhook (a wrong signing secret or address), as against an event
    received whose work failed (Needs attention tells of that)."""
    if not event_ids:
        return 0
    received = session.exec(select(StripeEvent.event_id).where(StripeEvent.vendor_id == vendor_id,
                                                               col(StripeEvent.event_id).in_(event_ids))).all()
    return len(set(event_ids) - set(received))


def learn_account(session: Session, connection: StripeConnection, account: dict) -> None:
    """Keep the account id Stripe gave for the connection's key, if the connection did not know it yet (made before
    the portal kept it): its records of unknown account are that account's."""
    if connection.stripe_account_id or not account.get("id"):
        return
    connection.stripe_account_id = str(account["id"])[:255]
    _claim_unknown(session, connection, connection.stripe_account_id)
    session.add(connection)


def know_the_account(session: Session, access: StripeAccess, connection: StripeConnection) -> None:
    """For a run that is about to read the vendor's Stripe (reconcile): the connection's account learnt first, if
    it is unknown, so that the run compares the records of that account only."""
    if connection.stripe_account_id:
        return
    gateway = access.gateway(connection)
    session.commit()
    learn_account(session, connection, gateway.account())
    session.commit()


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
