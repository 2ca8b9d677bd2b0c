"""The portal account's verbs: create, authenticate, verify e-mail, reset and change the password."""

from datetime import timedelta

from sqlalchemy import exists, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.audit import record_change
from portal.domain import DomainError
from portal.jobs import after_commit, huey, job_session
from portal.mail import link_to, mail_password_changed, queue_mail
from portal.models import AccountToken, AuditEvent, Customer, PortalAccount, Vendor, new_session_secret, utcnow
from portal.rules import normalize_email, valid_new_password
from portal.security import hash_password, needs_rehash, new_token, token_digest, upgrade_hash, verify_password
from portal.words import possessive

VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"  # noqa: S105 - a token purpose, not a password
TOKEN_LIFETIMES = {VERIFY_EMAIL: timedelta(days=3), RESET_PASSWORD: timedelta(hours=1)}


class TokenNotValid(DomainError):
    def __init__(self):
        super().__init__("This link is not valid any more. Ask for a new one.")


def send_verification_mail(session: Session, *, account: PortalAccount, vendor, verify_page: str) -> None:
    """Mail a fresh single-use link to `verify_page` (the portal's VerifyEmail page, an absolute URL) that
    confirms the account's e-mail (sent once the session commits)."""
    token = issue_token(session, account=account, purpose=VERIFY_EMAIL)
    queue_mail(session, to=account.email, subject=f"Confirm your e-mail for {vendor.name}",
               template="verify_email", vendor=vendor, verify_page=verify_page, token=token)


def find_account(session: Session, *, vendor_id: int, email: str) -> PortalAccount | None:
    return session.exec(select(PortalAccount).where(PortalAccount.vendor_id == vendor_id,
                                                    PortalAccount.email_normalized == normalize_email(email))
                        ).first()


def request_password_reset(session: Session, *, vendor_id: int, email: str, reset_page: str) -> None:
    """Mail a link to `reset_page` to the portal's account with this e-mail, if there is one.

    The request only queues a job (once its session commits), the same for a known e-mail and an unknown one, so
    neither its answer nor its timing tells whether an account exists: the lookup, the token and the mail happen
    in the job. (Done in the request, they made a known e-mail's answer measurably slower: a write and a commit.)
    """
    after_commit(session, lambda: send_password_reset(vendor_id, normalize_email(email), reset_page))


@huey.task(retries=3, retry_delay=60)
def send_password_reset(vendor_id: int, email: str, reset_page: str) -> None:
    with job_session() as session:
        account = find_account(session, vendor_id=vendor_id, email=email)
        vendor = session.get(Vendor, vendor_id) if account is not None else None
        if vendor is None:
            return
        # A retry after the commit (queueing the mail failed) issues a second token; the first was never mailed.
        token = issue_token(session, account=account, purpose=RESET_PASSWORD)
        queue_mail(session, to=account.email, subject=f"Reset your {vendor.name} password",
                   template="reset_password", vendor=vendor, reset_page=reset_page, token=token)
        session.commit()


def create_account(session: Session, *, vendor_id: int, customer_id: int, email: str, password: str = "",
                   password_hash: str = "", name: str = "", verified: bool = False, ip: str = "") -> PortalAccount:
    """A new login of the customer's, with the password or a hash of it made by `hash_password`."""
    account = PortalAccount(vendor_id=vendor_id, customer_id=customer_id, email=email.strip(),
                            email_normalized=normalize_email(email), name=name,
                            password_hash=password_hash or hash_password(password),
                            email_verified_at=utcnow() if verified else None)
    session.add(account)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise DomainError("An account with this e-mail exists in this portal.", field="email") from error
    record_change(session, vendor_id=vendor_id, actor=f"account:{account.id} {account.email}",
                  action="account.created", subject_type="customer", subject_id=customer_id,
                  after={"portal_account": account.email, "verified": verified}, ip=ip)
    return account


def authenticate(session: Session, *, vendor_id: int, email: str, password: str) -> PortalAccount | None:
    """The account if the password matches; the same work is done for unknown e-mails."""
    account = find_account(session, vendor_id=vendor_id, email=email)
    if not verify_password(account.password_hash if account else None, password):
        return None
    if needs_rehash(account.password_hash):
        upgrade_hash(session, PortalAccount, account, password)
    return account


def record_login(session: Session, *, account: PortalAccount) -> None:
    account.last_login_at = utcnow()
    session.add(account)


def end_sessions(session: Session, *, account_id: int) -> None:
    session.execute(update(PortalAccount).where(PortalAccount.id == account_id)
                    .values(session_secret=new_session_secret()))


def issue_token(session: Session, *, account: PortalAccount, purpose: str) -> str:
    token = new_token()
    session.add(AccountToken(account_id=account.id, purpose=purpose, token_hash=token_digest(token),
                             expires_at=utcnow() + TOKEN_LIFETIMES[purpose]))
    return token


def peek_token(session: Session, *, vendor_id: int, purpose: str, token: str) -> PortalAccount:
    """The account a live token belongs to, without using the token up."""
    row = session.exec(
        select(AccountToken, PortalAccount)
        .join(PortalAccount, PortalAccount.id == AccountToken.account_id)
        .where(AccountToken.token_hash == token_digest(token or ""), AccountToken.purpose == purpose,
               PortalAccount.vendor_id == vendor_id)
    ).first()
    if row is None or row[0].used_at is not None or row[0].expires_at <= utcnow():
        raise TokenNotValid()
    return row[1]


def use_token(session: Session, *, vendor_id: int, purpose: str, token: str) -> PortalAccount:
    """Use a token once: two simultaneous uses see one success and one `TokenNotValid`."""
    account = peek_token(session, vendor_id=vendor_id, purpose=purpose, token=token)
    used = session.execute(
        update(AccountToken)
        .where(AccountToken.token_hash == token_digest(token), AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:
        raise TokenNotValid()
    return account


def verify_email(session: Session, *, vendor_id: int, token: str, ip: str = "") -> PortalAccount:
    account = use_token(session, vendor_id=vendor_id, purpose=VERIFY_EMAIL, token=token)
    if account.email_verified_at is None:
        account.email_verified_at = utcnow()
        session.add(account)
        record_change(session, vendor_id=vendor_id, actor=f"account:{account.id} {account.email}",
                      action="account.email_verified", subject_type="customer", subject_id=account.customer_id,
                      after={"portal_account": account.email}, ip=ip)
    return account


def reset_password(session: Session, *, vendor_id: int, token: str, password: str, ip: str = "") -> PortalAccount:
    account = use_token(session, vendor_id=vendor_id, purpose=RESET_PASSWORD, token=token)
    _set_password(session, account, password, action="account.password_reset", ip=ip)
    # Whoever could read the reset mail owns the address: the account counts as verified from now on.
    account.email_verified_at = account.email_verified_at or utcnow()
    return account


def change_password(session: Session, *, account_id: int, current: str, new: str, ip: str = "") -> PortalAccount:
    """The account's own change: the current password proves it is the owner asking."""
    account = session.get(PortalAccount, account_id)
    if not verify_password(account.password_hash, current):
        raise DomainError("That is not your current password.", field="current_password")
    if new == current:
        raise DomainError("That is the password you have now: choose a new one.", field="password")
    _set_password(session, account, new, action="account.password_changed", ip=ip)
    return account


def _set_password(session: Session, account: PortalAccount, password: str, *, action: str, ip: str) -> None:
    valid_new_password(password, user_inputs=(account.email, account.name))
    # Every mailed link still open ends with the old password: a reset's, and an e-mail confirmation's (which logs in).
    session.execute(update(AccountToken).where(AccountToken.account_id == account.id, AccountToken.used_at.is_(None))
                    .values(used_at=utcnow()))
    account.password_hash = hash_password(password)
    account.session_secret = new_session_secret()
    session.add(account)
    record_change(session, vendor_id=account.vendor_id, actor=f"account:{account.id} {account.email}",
                  action=action, subject_type="customer", subject_id=account.customer_id,
                  after={"portal_account": account.email}, ip=ip)
    vendor = session.get(Vendor, account.vendor_id)
    mail_password_changed(session, to=account.email, vendor=vendor,
                          login_of=f"{possessive(vendor.name)} customer portal",
                          forgot_page=link_to("accounts.forgot_password", vendor_slug=vendor.slug))


def customer_awaiting_login(session: Session, *, vendor_id: int, email: str) -> Customer | None:
    """The customer a confirmed sign-up with this e-mail joins rather than making a second, empty record: the
    vendor's one customer of that address (made by the vendor, the API or Stripe, and mailed "create a login to see
    your license") that has never had a login, and no association link in play (where the vendor chose the link as
    the way in, it stays the only one). None when no customer or several qualify."""
    normalized = normalize_email(email)
    if not normalized:
        return None
    had_login = exists(select(PortalAccount.id).where(PortalAccount.customer_id == Customer.id)) | exists(
        select(AuditEvent.id).where(AuditEvent.vendor_id == vendor_id, AuditEvent.subject_type == "customer",
                                    AuditEvent.subject_id == Customer.id, AuditEvent.action == "account.detached"))
    found = session.exec(select(Customer).where(
        Customer.vendor_id == vendor_id, Customer.email_normalized == normalized,
        Customer.enable_customer_association.is_(False), ~had_login).limit(2)).all()
    return found[0] if len(found) == 1 else None
