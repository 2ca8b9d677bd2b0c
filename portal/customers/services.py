"""The customer's verbs: create, update, delete, search, and the association link's life cycle."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import Select, bindparam, delete, union, update
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from portal.audit import record_change, snapshot
from portal.billing_models import StripeConnection, StripeCustomer, Subscription, stripe_dashboard_url
from portal.customers.search_index import (
    forget_customer,
    index_customer,
    index_for,
    prefix_params,
    prefix_range,
    words_of,
)
from portal.domain import DomainError, NotFound, assign, get_owned
from portal.keys.find import FULL_KEY
from portal.mail import queue_mail
from portal.models import ID_MAX, NAME_MAX, Customer, LicenseKey, PortalAccount, Product, Vendor, utcnow
from portal.rules import normalize_email, valid_name
from portal.security import Encryptor, same_secret

EDITABLE_FIELDS = (
    "name", "email", "company_name", "notes", "allow_activation_management",
    "allow_multiple_user_association", "max_no_of_devices",
)


class LinkNotValid(DomainError):
    def __init__(self):
        super().__init__("This link is not valid.")


def get_customer(session: Session, *, vendor_id: int, customer_id: int) -> Customer:
    return get_owned(session, Customer, customer_id, vendor_id=vendor_id)


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


def delete_customer(session: Session, *, customer: Customer, actor: str, ip: str = "") -> None:
    accounts = session.exec(select(PortalAccount.email).where(PortalAccount.customer_id == customer.id)).all()
    before = snapshot(customer) | {"portal_accounts": list(accounts)}
    record_change(session, vendor_id=customer.vendor_id, actor=actor, action="customer.deleted",
                  subject_type="customer", subject_id=customer.id, before=before, ip=ip)
    session.execute(delete(PortalAccount).where(PortalAccount.customer_id == customer.id))
    forget_customer(session, customer.id)
    session.delete(customer)


@dataclass
class Page:
    customers: list  # rows of LISTED: id, name, email, company_name, created
    next_before: int | None


_CUSTOMERS = Customer.__table__
_STRIPE_CUSTOMERS = StripeCustomer.__table__
# What the customer list and the key forms' customer picker show: plain rows, not ORM entities.
LISTED = (_CUSTOMERS.c.id, _CUSTOMERS.c.name, _CUSTOMERS.c.email, _CUSTOMERS.c.company_name, _CUSTOMERS.c.created)


def search_customers(session: Session, *, vendor_id: int, query: str = "", before: int | None = None,
                     limit: int = 25) -> Page:
    """Newest first, by keyset (`id < before`), matching an id, an e-mail prefix, a word prefix, a secret, an e-mail
    domain (`@example.com`, or its start) or a whole key of the customer's."""
    params = {"vendor_id": vendor_id, "before": before}
    query = query.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL
    dialect = session.get_bind().dialect.name
    shape = _query_shape(query, params, dialect) if query else None
    statement = _search_statement(shape, before is not None, limit + 1, dialect)
    rows = session.connection().execute(statement, params).all()
    next_before = rows[limit - 1].id if len(rows) > limit else None
    return Page(customers=rows[:limit], next_before=next_before)


def picker_choices(session: Session, *, vendor_id: int, query: str, selected: int | None,
                   limit: int = 8) -> tuple[list, int | None]:
    """The customer picker's choices for what was typed, and which is chosen: the chosen customer first, then the
    matches. A lone match is chosen as one types, so a typed name never leaves "No customer" chosen unnoticed (the
    one chosen before stays listed, to go back to)."""
    matches = search_customers(session, vendor_id=vendor_id, query=query, limit=limit).customers
    found = session.get(Customer, selected) if selected else None
    before = [found] if found is not None and found.vendor_id == vendor_id else []
    if query.strip() and len(matches) == 1:
        return matches + [c for c in before if c.id != matches[0].id], matches[0].id
    chosen = [c for c in matches if c.id == selected] or before
    return chosen + [c for c in matches if c.id != selected], chosen[0].id if chosen else None


def _query_shape(query: str, params: dict, dialect: str) -> tuple:
    """The ways the query can match, as a hashable shape; their values go into `params`."""
    params["secret"] = query
    email_bounded = prefix_params(params, "email", query.lower())
    by_id = query.isdecimal() and len(query) <= 10 and int(query) <= ID_MAX
    if by_id:
        params["id"] = int(query)
    by_stripe = query.startswith("cus_") and len(query) <= 255  # a Stripe customer id, pasted from Stripe
    if by_stripe:
        params["stripe_customer_id"] = query
    by_domain = None
    if query.startswith("@") and len(query) > 1:
        by_domain = prefix_params(params, "domain", query[1:].lower())
    by_key = bool(FULL_KEY.fullmatch(query.upper()))
    if by_key:
        params["key_text"] = query.upper()
    words = words_of(query) if by_domain is None else []  # `@example.com` is a domain, not the words of names
    return (email_bounded, by_id, by_stripe, by_domain, by_key,
            index_for(dialect).bind(words, params) if words else None)


@lru_cache(maxsize=256)
def _search_statement(shape: tuple | None, keyset: bool, limit: int, dialect: str) -> Select:
    """The statement for a query of this shape (None: no query), with bind parameters for the values.

    Made once per shape: building a statement (and its cache key) costs more than running it, and the same
    statement object lets SQLAlchemy reuse its compiled form.
    """
    customer = _CUSTOMERS.c
    statement = core_select(*LISTED).where(customer.vendor_id == bindparam("vendor_id"))
    if shape is not None:
        statement = statement.where(customer.id.in_(_matching_ids(shape, keyset, limit, dialect)))
    if keyset:
        statement = statement.where(customer.id < bindparam("before"))
    return statement.order_by(customer.id.desc()).limit(limit)


def _matching_ids(shape: tuple, keyset: bool, limit: int, dialect: str):
    """The ids of the newest `limit` customers below `before` in each way of matching, as one UNION.

    One OR over the ways would be planned as a walk down the whole table testing every row; each branch here is
    served by its own index instead, and the page's newest `limit` are among the branches' newest `limit`.
    Name words go to the database's word index (search_index.py).
    """
    email_bounded, by_id, by_stripe, by_domain, by_key, words = shape
    customer = _CUSTOMERS.c
    vendor_id = bindparam("vendor_id")

    def newest(ids: Select, column) -> Select:
        ids = ids.where(column < bindparam("before")) if keyset else ids
        page = ids.order_by(column.desc()).limit(limit).subquery()
        return core_select(page.c[0])

    branches = [
        newest(core_select(customer.id).where(
            customer.vendor_id == vendor_id,
            prefix_range(customer.email_normalized, "email", email_bounded)), customer.id),
        core_select(customer.id).where(customer.vendor_id == vendor_id, customer.secret == bindparam("secret")),
    ]
    if by_id:
        branches.append(core_select(customer.id).where(customer.vendor_id == vendor_id,
                                                       customer.id == bindparam("id")))
    if by_stripe:
        stripe = _STRIPE_CUSTOMERS.c
        branches.append(core_select(stripe.customer_id).where(
            stripe.vendor_id == vendor_id, stripe.stripe_customer_id == bindparam("stripe_customer_id")))
    if by_domain is not None:
        branches.append(newest(core_select(customer.id).where(
            customer.vendor_id == vendor_id, prefix_range(customer.email_domain, "domain", by_domain)), customer.id))
    if by_key:  # each of the vendor's products' unique (product_id, key) index
        key = LicenseKey.__table__.c
        branches.append(core_select(key.customer_id).where(
            key.key == bindparam("key_text"), key.customer_id.is_not(None),
            key.product_id.in_(core_select(Product.__table__.c.id).where(Product.__table__.c.vendor_id == vendor_id))))
    if words is not None:
        branches.append(index_for(dialect).newest_matching(words, newest))
    return union(*branches)


def billing_of(session: Session, *, vendor_id: int, customer_id: int) -> dict:
    """The customer's Stripe customer (with its page in Stripe's dashboard) and subscriptions with their keys."""
    stripe_id = session.exec(select(StripeCustomer.stripe_customer_id).where(
        StripeCustomer.vendor_id == vendor_id, StripeCustomer.customer_id == customer_id)).first()
    livemode = session.exec(select(StripeConnection.livemode).where(StripeConnection.vendor_id == vendor_id)).first()
    subscriptions = session.exec(
        select(Subscription, LicenseKey).outerjoin(LicenseKey, LicenseKey.id == Subscription.key_id)
        .where(Subscription.vendor_id == vendor_id, Subscription.customer_id == customer_id)
        .order_by(Subscription.id.desc())).all()
    return {"stripe_customer_id": stripe_id, "subscriptions": subscriptions,
            "stripe_url": stripe_dashboard_url("customers", stripe_id, livemode=bool(livemode)) if stripe_id else None}


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
    if action == "enable" and association_code(customer, encryptor) is None:
        _new_association_code(customer, encryptor)
    elif action == "regenerate":
        _new_association_code(customer, encryptor)
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
    return customer


def claim_association_link(session: Session, *, customer: Customer) -> None:
    """Use the link once, atomically: of two simultaneous uses of a single-use link exactly one wins."""
    statement = (
        update(Customer)
        .where(Customer.id == customer.id, Customer.enable_customer_association.is_(True),
               Customer.association_code_encrypted == customer.association_code_encrypted)
        .values(association_used_at=utcnow())
    )
    if not customer.allow_multiple_user_association:
        statement = statement.where(Customer.association_used_at.is_(None))
    if session.execute(statement).rowcount != 1:
        raise LinkNotValid()
