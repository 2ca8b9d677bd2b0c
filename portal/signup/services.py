"""Getting end customers in: the generic sign-up and the association link."""

from sqlalchemy import func
from sqlmodel import Session, select

from portal.accounts import services as accounts
from portal.audit import record_change
from portal.customers import services as customers
from portal.domain import DomainError
from portal.models import Customer, LicenseKey, PortalAccount, Vendor
from portal.security import Encryptor, hash_password


def sign_up(session: Session, *, vendor: Vendor, name: str, email: str, company_name: str, password: str,
            encryptor: Encryptor, ip: str = "") -> tuple[PortalAccount, bool]:
    """A new customer and its unverified account, or the existing account (`created` False) for its owner."""
    existing = accounts.find_account(session, vendor_id=vendor.id, email=email)
    if existing is not None:
        hash_password(password)  # the work a new account costs, so the answer takes as long either way
        return existing, False
    customer = customers.create_customer(session, vendor_id=vendor.id, actor=f"signup {email}", ip=ip,
                                         encryptor=encryptor, origin="signup", name=name, email=email,
                                         company_name=company_name)
    account = accounts.create_account(session, vendor_id=vendor.id, customer_id=customer.id, email=email,
                                      name=name, password=password, ip=ip)
    return account, True


def associate_new_account(session: Session, *, vendor: Vendor, customer: Customer, email: str, name: str,
                          password: str, ip: str = "") -> PortalAccount:
    """A new login for the customer behind a valid link; the link vouches for it, so it needs no mail check."""
    customers.claim_association_link(session, customer=customer)
    if accounts.find_account(session, vendor_id=vendor.id, email=email) is not None:
        raise DomainError("An account with this e-mail exists in this portal: log in with it below instead.",
                          field="email")
    return accounts.create_account(session, vendor_id=vendor.id, customer_id=customer.id, email=email,
                                   name=name, password=password, verified=True, ip=ip)


def associate_existing_account(session: Session, *, customer: Customer, account: PortalAccount,
                               ip: str = "") -> PortalAccount:
    """Move an account to the customer behind the link, if the account's own record is an empty sign-up."""
    if account.customer_id == customer.id:
        raise DomainError("Your account already belongs to this customer.")
    own = session.get(Customer, account.customer_id)
    if not _is_empty_signup(session, own, account):
        raise DomainError("Your account already belongs to another customer record, so it cannot join this "
                          "one. Create a new login here instead, or ask the vendor for help.")
    customers.claim_association_link(session, customer=customer)
    account.customer_id = customer.id
    session.add(account)
    session.flush()
    record_change(session, vendor_id=customer.vendor_id, actor=f"account:{account.id} {account.email}",
                  action="account.associated", subject_type="customer", subject_id=customer.id,
                  before={"customer_id": own.id}, after={"customer_id": customer.id}, ip=ip)
    customers.delete_customer(session, customer=own, actor=f"account:{account.id} {account.email}", ip=ip)
    return account


def _is_empty_signup(session: Session, customer: Customer | None, account: PortalAccount) -> bool:
    if customer is None or customer.origin != "signup":
        return False
    others = session.exec(select(func.count()).select_from(PortalAccount).where(
        PortalAccount.customer_id == customer.id, PortalAccount.id != account.id)).one()
    keys = session.exec(select(func.count()).select_from(LicenseKey).where(LicenseKey.customer_id == customer.id)).one()
    return others == 0 and keys == 0
