"""Getting end customers in: the generic sign-up and the association link."""

from dataclasses import asdict, dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from portal.accounts import services as accounts
from portal.audit import record_change
from portal.customers import services as customers
from portal.domain import DomainError
from portal.jobs import after_commit, huey, job_session
from portal.mail import queue_mail
from portal.models import Customer, LicenseKey, PortalAccount, Vendor
from portal.security import hash_password


@dataclass(frozen=True)
class SignUpPages:
    """The portal's pages a sign-up mail links to, as absolute URLs (a job has no request to build them from)."""

    verify_page: str
    login_page: str
    forgot_page: str


def request_sign_up(session: Session, *, vendor_id: int, name: str, email: str, company_name: str, password: str,
                    pages: SignUpPages, ip: str = "") -> None:
    """Sign up in a job once the session commits: a new customer and its unverified account with a link to confirm
    the e-mail, or, for an e-mail the portal knows, a mail to the account's owner.

    The request does the same work either way (it hashes the password and queues the job), so neither its answer
    nor its timing tells whether the e-mail has an account here; only the mailbox's owner learns which it was.
    The password never enters the queue, only its argon2 hash.
    """
    password_hash = hash_password(password)
    after_commit(session, lambda: complete_sign_up(vendor_id, name, email, company_name, password_hash,
                                                   asdict(pages), ip))


@huey.task(retries=3, retry_delay=60)
def complete_sign_up(vendor_id: int, name: str, email: str, company_name: str, password_hash: str, pages: dict,
                     ip: str) -> None:
    with job_session() as session:
        vendor = session.get(Vendor, vendor_id)
        if vendor is None:
            return
        existing = accounts.find_account(session, vendor_id=vendor_id, email=email)
        if existing is None:
            try:
                customer = customers.create_customer(session, vendor_id=vendor_id, actor=f"signup {email}", ip=ip,
                                                     origin="signup", name=name, email=email,
                                                     company_name=company_name)
                account = accounts.create_account(session, vendor_id=vendor_id, customer_id=customer.id,
                                                  email=email, name=name, password_hash=password_hash, ip=ip)
            except DomainError:  # the same e-mail signed up a moment ago: its account exists now
                session.rollback()
                existing = accounts.find_account(session, vendor_id=vendor_id, email=email)
            else:
                accounts.send_verification_mail(session, account=account, vendor=vendor,
                                                verify_page=pages["verify_page"])
        if existing is not None:
            queue_mail(session, to=existing.email, subject=f"Your {vendor.name} account", template="signup_exists",
                       vendor_name=vendor.name, login_page=pages["login_page"], forgot_page=pages["forgot_page"])
        session.commit()


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
