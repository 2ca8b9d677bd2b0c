"""The customer's verbs: create, update, delete, and the association link's life cycle. Finding customers is
portal/customer_search/, whose word index these verbs keep in step."""

import secrets
import uuid
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, func, select

from portal.audit import record_change, snapshot
from portal.billing_models import (
    StripeConnection,
    StripeCustomer,
    StripePrice,
    Subscription,
    live_subscription_ids,
    of_the_connection,
    price_of_subscription,
    still_paid_for,
    stripe_dashboard_url,
)
from portal.customer_search.index import forget_customer, index_customer
from portal.domain import DomainError, NotFound, assign, get_owned, one_at_a_time
from portal.mail import queue_mail
from portal.models import ID_MAX, NAME_MAX, Customer, LicenseKey, PortalAccount, Vendor, utcnow
from portal.rules import normalize_email, valid_name
from portal.security import Encryptor, same_secret

EDITABLE_FIELDS = (
    "name", "email", "company_name", "notes", "allow_activation_management",
    "allow_multiple_user_association", "max_no_of_devices",
)


class LinkNotValid(DomainError):
    def __init__(self, message: str = "This link is not valid."):
        super().__init__(message)


class OneLoginOnly(LinkNotValid):
    """A valid link to a customer that has the one portal login it may have (AllowMultipleUserAssociation off)."""

    def __init__(self):
        super().__init__("This customer has its portal login already, and may have only one.")


def get_customer(session: Session, *, vendor_id: int, customer_id: int) -> Customer:
    return get_owned(session, Customer, customer_id, vendor_id=vendor_id)


def one_customer_per_email(session: Session, *, vendor_id: int, email: str) -> None:
    """Wait for any other transaction finding or making the vendor's customer of this e-mail address (the Web API's
    AddOrUseExistingCustomer, a Stripe buyer) to end, so that two at once make one customer, not two."""
    if normalized := normalize_email(email):
        one_at_a_time(session, f"customer e-mail {vendor_id} {normalized}")


def customer_by_email(session: Session, *, vendor_id: int, email: str) -> Customer | None:
    """The vendor's oldest customer with this e-mail address, compared as normalised (case, spaces)."""
    normalized = normalize_email(email)
    if not normalized:
        return None
    return session.exec(select(Customer).where(Customer.vendor_id == vendor_id, Customer.email_normalized == normalized)
                        .order_by(Customer.id)).first()


def another_with_email(session: Session, *, customer: Customer) -> Customer | None:
    """Another of the vendor's customers with this customer's e-mail address (compared as normalised), if any."""
    if not customer.email_normalized:
        return None
    return session.exec(select(Customer).where(Customer.vendor_id == customer.vendor_id, Customer.id != customer.id,
                                               Customer.email_normalized == customer.email_normalized)
                        .order_by(Customer.id)).first()


def first_customer(session: Session, *, vendor_id: int) -> Customer | None:
    """The vendor's oldest customer (the demo seed's)."""
    return session.exec(select(Customer).where(Customer.vendor_id == vendor_id).order_by(Customer.id)).first()


def create_customer(session: Session, *, vendor_id: int, actor: str, encryptor: Encryptor | None = None,
                    ip: str = "", origin: str = "vendor", enable_customer_association: bool = False,
                    **fields) -> Customer:
    """A new customer; `encryptor` keeps its association code, needed only with `enable_customer_association`."""
    customer = Customer(vendor_id=vendor_id, secret=str(uuid.uuid4()), origin=origin)
    _apply(customer, fields)
    session.add(customer)
    session.flush()
    index_customer(session, customer)
    if enable_customer_association:
        _new_association_code(customer, encryptor)
    record_change(session, vendor_id=vendor_id, actor=actor, action="customer.created",
                  subject_type="customer", subject_id=customer.id, after=snapshot(customer), ip=ip)
    return customer


def update_customer(session: Session, *, customer: Customer, actor: str, ip: str = "", **fields) -> Customer:
    before = snapshot(customer)
    _apply(customer, fields)
    session.add(customer)
    if (before["name"], before["company_name"]) != (customer.name, customer.company_name):
        index_customer(session, customer)
    record_change(session, vendor_id=customer.vendor_id, actor=actor, action="customer.updated",
                  subject_type="customer", subject_id=customer.id, before=before, after=snapshot(customer),
                  ip=ip)
    return customer


def change_own_details(session: Session, *, account, name: str, company_name: str, ip: str = "") -> Customer:
    """The customer's own name and company, from the portal (`account` the login, a record or the ORM row): the
    vendor's customer record of the login changes, audited with the login as the actor."""
    name, company_name = name.strip(), company_name.strip()
    for field, value in (("name", name), ("company_name", company_name)):
        if value:
            valid_name(value, max_length=NAME_MAX, field=field)
    if not (name or company_name):
        raise DomainError("Give your name or your company.", field="name")
    customer = session.get(Customer, account.customer_id)
    return update_customer(session, customer=customer, actor=f"account:{account.id} {account.email}", ip=ip,
                           name=name, company_name=company_name)


def _apply(customer: Customer, fields: dict) -> None:
    assign(customer, fields, editable=EDITABLE_FIELDS)
    customer.email_normalized = normalize_email(customer.email)
    customer.email_domain = customer.email_normalized.rpartition("@")[2] if "@" in customer.email_normalized else ""


def live_subscriptions(session: Session, *, customer: Customer) -> list[str]:
    """The Stripe subscriptions the customer pays for that have not ended (of any account or mode)."""
    return live_subscription_ids(session, vendor_id=customer.vendor_id, customer_id=customer.id)


def count_keys(session: Session, *, customer: Customer) -> int:
    return session.exec(select(func.count()).select_from(LicenseKey).where(LicenseKey.customer_id == customer.id)).one()


def delete_customer(session: Session, *, customer: Customer, actor: str, ip: str = "") -> None:
    """Remove the record, its logins and its search entry; its keys stay, with no customer. Refused while a Stripe
    subscription of the customer's still runs: Stripe would go on charging for a key of nobody's."""
    live = live_subscriptions(session, customer=customer)
    if live:
        raise DomainError(still_paid_for(live, "This customer pays for", "delete the customer"))
    accounts = session.exec(select(PortalAccount.email).where(PortalAccount.customer_id == customer.id)).all()
    before = snapshot(customer) | {"portal_accounts": list(accounts)}
    record_change(session, vendor_id=customer.vendor_id, actor=actor, action="customer.deleted",
                  subject_type="customer", subject_id=customer.id, before=before, ip=ip)
    session.execute(delete(PortalAccount).where(PortalAccount.customer_id == customer.id))
    forget_customer(session, customer.id)
    session.delete(customer)


def billing_of(session: Session, *, vendor_id: int, customer_id: int) -> dict:
    """The customer's Stripe customer (with its page in Stripe's dashboard) and subscriptions with their keys, in the
    account and mode the vendor's Stripe is connected in."""
    connection = session.exec(select(StripeConnection).where(StripeConnection.vendor_id == vendor_id)).first() \
        or StripeConnection(vendor_id=vendor_id)
    stripe_id = session.exec(select(StripeCustomer.stripe_customer_id).where(
        StripeCustomer.vendor_id == vendor_id, StripeCustomer.customer_id == customer_id,
        of_the_connection(StripeCustomer, connection))).first()
    subscriptions = session.exec(
        select(Subscription, LicenseKey, StripePrice).outerjoin(LicenseKey, LicenseKey.id == Subscription.key_id)
        .outerjoin(StripePrice, price_of_subscription())
        .where(Subscription.vendor_id == vendor_id, Subscription.customer_id == customer_id,
               of_the_connection(Subscription, connection))
        .order_by(Subscription.id.desc())).all()
    return {"stripe_customer_id": stripe_id, "subscriptions": subscriptions,
            "stripe_url": stripe_dashboard_url("customers", stripe_id, livemode=connection.livemode) if stripe_id
            else None}


def portal_accounts_of(session: Session, *, customer: Customer) -> list[PortalAccount]:
    return list(session.exec(select(PortalAccount).where(PortalAccount.customer_id == customer.id)
                             .order_by(PortalAccount.id)).all())


def detach_account(session: Session, *, customer: Customer, account_id: int, actor: str, ip: str = "") -> None:
    account = session.get(PortalAccount, account_id)
    if account is None or account.customer_id != customer.id:
        raise NotFound()
    record_change(session, vendor_id=customer.vendor_id, actor=actor, action="account.detached",
                  subject_type="customer", subject_id=customer.id,
                  before={"portal_account": account.email}, ip=ip)
    session.delete(account)


# The association link: /Portal/@<slug>/Associate?id=<customer id>&auth=<code>


def _new_association_code(customer: Customer, encryptor: Encryptor) -> None:
    customer.enable_customer_association = True
    customer.association_code_encrypted = encryptor.encrypt(secrets.token_urlsafe(24))  # 192 bits
    customer.association_used_at = None
    customer.association_mailed_at, customer.association_mailed_to = None, ""


def association_code(customer: Customer, encryptor: Encryptor) -> str | None:
    if not customer.enable_customer_association or not customer.association_code_encrypted:
        return None
    return encryptor.decrypt(customer.association_code_encrypted)


def set_association(session: Session, *, customer: Customer, action: str, encryptor: Encryptor,
                    actor: str, ip: str = "") -> Customer:
    """`enable` (keeps a live code), `regenerate` (the old link dies) or `disable`."""
    before = {"enable_customer_association": customer.enable_customer_association}
    if action == "regenerate" or (action == "enable" and association_code(customer, encryptor) is None):
        _new_association_code(customer, encryptor)
        before = None  # a new link is a change even where association was on: the old link dies
    elif action == "disable":
        customer.enable_customer_association = False
        customer.association_code_encrypted = None
        customer.association_mailed_at, customer.association_mailed_to = None, ""
    elif action != "enable":
        raise ValueError(action)
    session.add(customer)
    record_change(session, vendor_id=customer.vendor_id, actor=actor, action=f"customer.association_{action}d",
                  subject_type="customer", subject_id=customer.id, before=before,
                  after={"enable_customer_association": customer.enable_customer_association}, ip=ip)
    return customer


class TooSoon(DomainError):
    """Asked again too soon: the caller answers 429."""


MAIL_LINK_EVERY = timedelta(minutes=5)


def mail_association_link(session: Session, *, customer: Customer, link: str | None, actor: str,
                          ip: str = "") -> str:
    """Mail the association link to the customer's e-mail, in the vendor's name (once the session commits), and
    note when and to whom; at most once in MAIL_LINK_EVERY. Returns the address."""
    if link is None:
        raise DomainError("Turn customer association on first: there is no link to send.")
    if not customer.email:
        raise DomainError("Add the customer's e-mail first: the link is mailed to it.")
    now = utcnow()
    if customer.association_mailed_at and now - customer.association_mailed_at < MAIL_LINK_EVERY:
        raise TooSoon(f"The link was mailed to {customer.association_mailed_to} at "
                      f"{customer.association_mailed_at:%H:%M} UTC. Wait a few minutes before sending it again.")
    vendor = session.get(Vendor, customer.vendor_id)
    if not vendor.portal_enabled:
        raise DomainError("Your customer portal is off, so the link would not open: turn it on in Settings first.")
    queue_mail(session, to=customer.email, subject=f"{vendor.name} invites you to its customer portal",
               template="association_invite", vendor=vendor, link=link, customer_name=customer.name)
    customer.association_mailed_at, customer.association_mailed_to = now, customer.email
    session.add(customer)
    record_change(session, vendor_id=customer.vendor_id, actor=actor, action="customer.association_mailed",
                  subject_type="customer", subject_id=customer.id, after={"to": customer.email}, ip=ip)
    return customer.email


def link_usable(customer: Customer) -> bool:
    return customer.allow_multiple_user_association or customer.association_used_at is None


def check_association_link(session: Session, *, vendor_id: int, customer_id: str, auth: str,
                           encryptor: Encryptor) -> Customer:
    """The customer behind a valid link; any fault of the link raises the same `LinkNotValid`."""
    if not customer_id.isdecimal() or len(customer_id) > 10 or int(customer_id) > ID_MAX:
        raise LinkNotValid()
    if not auth or len(auth) > 200:
        raise LinkNotValid()
    customer = session.get(Customer, int(customer_id))
    if customer is None or customer.vendor_id != vendor_id:
        raise LinkNotValid()
    code = association_code(customer, encryptor)
    if code is None or not same_secret(auth, code) or not link_usable(customer):
        raise LinkNotValid()
    if not customer.allow_multiple_user_association and has_login(session, customer):
        raise OneLoginOnly()
    return customer


def has_login(session: Session, customer: Customer) -> bool:
    return session.exec(select(PortalAccount.id).where(PortalAccount.customer_id == customer.id)).first() is not None


def claim_association_link(session: Session, *, customer: Customer) -> None:
    """Use the link, atomically: of two simultaneous uses of a single-use link exactly one wins, and a customer that
    may have one portal login is joined only while it has none (OneLoginOnly)."""
    statement = (
        update(Customer)
        .where(Customer.id == customer.id, Customer.enable_customer_association.is_(True),
               Customer.association_code_encrypted == customer.association_code_encrypted)
        .values(association_used_at=utcnow())
    )
    if not customer.allow_multiple_user_association:
        logins = select(PortalAccount.id).where(PortalAccount.customer_id == customer.id)
        statement = statement.where(Customer.association_used_at.is_(None), ~logins.exists())
    if session.execute(statement).rowcount != 1:
        raise OneLoginOnly() if not customer.allow_multiple_user_association and has_login(session, customer) \
            else LinkNotValid()
