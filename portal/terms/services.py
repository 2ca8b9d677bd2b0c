"""Terms of use: the vendor's `cryptolens_customtosurl`, and who accepted which address when."""

from dataclasses import dataclass

from sqlalchemy import distinct, func
from sqlmodel import Session, select

from portal.audit import record_change
from portal.billing_models import Subscription
from portal.dataobjects.services import (
    TERMS_URL,
    add_object,
    delete_object,
    find_by_name,
    update_object,
)
from portal.domain import DomainError
from portal.models import PortalAccount, TermsAcceptance
from portal.rules import is_http_address, web_url_problem


def usable_terms_url(stored: str | None) -> str | None:
    """The address customers are asked to accept, from the data object's value: None unless it is a web address
    (one kept under an older rule still is: the gate never turns itself off)."""
    if stored is None or not is_http_address(stored):
        return None
    return stored.strip()


def current_terms_url(session: Session, *, vendor_id: int) -> str | None:
    data_object = find_by_name(session, vendor_id=vendor_id, name=TERMS_URL)
    return usable_terms_url(data_object.string_value if data_object else None)


def still_to_accept(session: Session, *, account_id: int, state) -> bool:
    """Whether the account has yet to accept the vendor's current terms; `state` is what the request's first query
    read (the stored address, and whether the account accepted exactly it)."""
    url = usable_terms_url(state.stored_url)
    return url is not None and not state.accepted and not has_accepted(session, account_id=account_id, url=url)


def has_accepted(session: Session, *, account_id: int, url: str | None = None) -> bool:
    """Whether the account accepted the terms at `url`, or without one any terms (then changed by the vendor)."""
    accepted = select(TermsAcceptance.id).where(TermsAcceptance.account_id == account_id)
    if url is not None:
        accepted = accepted.where(TermsAcceptance.url == url)
    return session.exec(accepted.limit(1)).first() is not None


def has_subscriptions(session: Session, *, customer_id: int) -> bool:
    return session.exec(select(Subscription.id).where(Subscription.customer_id == customer_id)
                        .limit(1)).first() is not None


def accept_terms(session: Session, *, account: PortalAccount, url: str, ip: str = "",
                 user_agent: str = "") -> TermsAcceptance:
    acceptance = TermsAcceptance(vendor_id=account.vendor_id, account_id=account.id, url=url, ip=ip,
                                 user_agent=user_agent)
    session.add(acceptance)
    # The acceptance row goes with the account; the trail keeps the proof of consent after it.
    record_change(session, vendor_id=account.vendor_id, actor=f"account:{account.id} {account.email}",
                  action="account.terms_accepted", subject_type="customer", subject_id=account.customer_id,
                  after={"portal_account": account.email, "url": url, "user_agent": user_agent}, ip=ip)
    return acceptance


def acceptances_for_customer(session: Session, *, customer_id: int) -> list:
    return list(session.exec(
        select(TermsAcceptance, PortalAccount)
        .join(PortalAccount, PortalAccount.id == TermsAcceptance.account_id)
        .where(PortalAccount.customer_id == customer_id)
        .order_by(TermsAcceptance.id.desc())
    ).all())


@dataclass(frozen=True, slots=True)
class TermsSettings:
    """What the vendor's settings say of its terms: the stored value, the address customers are asked to accept
    (None: the gate is off), how many customers accepted that address, and how many have a portal login."""

    stored: str | None
    url: str | None
    accepted_customers: int
    customers_with_login: int


def terms_settings(session: Session, *, vendor_id: int) -> TermsSettings:
    data_object = find_by_name(session, vendor_id=vendor_id, name=TERMS_URL)
    stored = data_object.string_value if data_object else None
    url = usable_terms_url(stored)
    with_login = select(func.count(distinct(PortalAccount.customer_id))).where(PortalAccount.vendor_id == vendor_id)
    accepted = 0
    if url is not None:
        accepted = session.exec(
            with_login.join(TermsAcceptance, TermsAcceptance.account_id == PortalAccount.id)
            .where(TermsAcceptance.url == url, TermsAcceptance.vendor_id == vendor_id)).one()
    return TermsSettings(stored=stored, url=url, accepted_customers=accepted,
                         customers_with_login=session.exec(with_login).one())


UNCHANGED, NEEDS_CONFIRMATION, SAVED, REMOVED = "unchanged", "needs_confirmation", "saved", "removed"


def change_terms_url(session: Session, *, vendor_id: int, url: str, confirmed: bool, actor: str,
                     ip: str = "") -> str:
    """Set (or, with an empty `url`, remove) the vendor's `cryptolens_customtosurl`, the one data object the
    gate reads. A new address asks every customer again, so it is saved only once `confirmed`: until then the
    answer is NEEDS_CONFIRMATION and nothing is written."""
    url = url.strip()
    problem = web_url_problem(url) if url else ""
    if problem:
        raise DomainError(problem, field="url")
    data_object = find_by_name(session, vendor_id=vendor_id, name=TERMS_URL)
    if url == (data_object.string_value.strip() if data_object else ""):
        return UNCHANGED
    if not url:
        delete_object(session, data_object=data_object, actor=actor, ip=ip)
        return REMOVED
    if not confirmed:
        return NEEDS_CONFIRMATION
    if data_object is None:
        add_object(session, vendor_id=vendor_id, name=TERMS_URL, string_value=url, actor=actor, ip=ip)
    else:
        update_object(session, data_object=data_object, name=TERMS_URL, string_value=url,
                      int_value=data_object.int_value, actor=actor, ip=ip)
    return SAVED
