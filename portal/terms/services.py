"""Terms of use: the vendor's `cryptolens_customtosurl`, and who accepted which address when."""

from sqlmodel import Session, select

from portal.audit import record_change
from portal.dataobjects.services import TERMS_URL, find_by_name, is_web_url
from portal.models import PortalAccount, TermsAcceptance


def usable_terms_url(stored: str | None) -> str | None:
    """The address customers are asked to accept, from the data object's value: None unless it is a web URL."""
    if stored is None or not is_web_url(stored):
        return None
    return stored.strip()


def current_terms_url(session: Session, *, vendor_id: int) -> str | None:
    data_object = find_by_name(session, vendor_id=vendor_id, name=TERMS_URL)
    return usable_terms_url(data_object.string_value if data_object else None)


def has_accepted(session: Session, *, account_id: int, url: str) -> bool:
    return session.exec(select(TermsAcceptance.id).where(TermsAcceptance.account_id == account_id,
                                                         TermsAcceptance.url == url).limit(1)).first() is not None


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
