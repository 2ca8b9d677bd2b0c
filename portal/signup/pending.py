"""Logins asked for by e-mail: the generic sign-up and an association link's "create a new login". The request
answers the same for any e-mail; the mailed link, once opened, makes the customer (or uses the link) and the login.

So a typed e-mail is proven before anything is made: unconfirmed sign-ups fill no customer list, an association
link tells its holder nothing about which e-mails have a login, and the link is used up only when a join completes.

The request is kept in the database in the request's own transaction (a pending login without a token yet); a job
decides, once that commits, which mail it gets, and a periodic sweep queues again the requests whose job was lost
(huey does not run again a task whose consumer was killed). Whichever job gets to a request first mails it; the
others find it done.
"""

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from huey import crontab
from sqlalchemy import delete, or_, update
from sqlmodel import Session, select

from portal.accounts import services as accounts
from portal.accounts.services import TokenNotValid
from portal.audit import record_change
from portal.customers import services as customers
from portal.domain import DomainError
from portal.jobs import after_commit, huey, job_session, queue_again
from portal.mail import queue_mail
from portal.models import Customer, PendingLogin, PortalAccount, Vendor, utcnow
from portal.rules import valid_new_password
from portal.security import hash_password, new_token, token_digest, verify_password

LIFETIME = timedelta(hours=48)
# A request still without its mail this long after it was queued: its job was lost; the sweep queues it again.
STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True)
class Pages:
    """The portal's pages the mails link to, as absolute URLs (a job has no request to build them from)."""

    confirm_page: str
    login_page: str
    forgot_page: str


def request_login(session: Session, *, vendor_id: int, name: str, email: str, password: str, pages: Pages,
                  company_name: str = "", customer: Customer | None = None) -> None:
    """Ask for a login, for a new customer (`customer` None: the generic sign-up) or to join `customer` (its
    association link checked by the caller). A job, once the session commits, mails a confirmation link, or, for an
    e-mail that has a login here, a note to its owner.

    The request does the same work either way (it hashes the password, keeps the request and queues the job), so
    neither its answer nor its timing tells whether the e-mail has a login here. Only the password's hash is kept.
    """
    now = utcnow()
    password_hash = hash_password(valid_new_password(password, user_inputs=(email, name, company_name)))
    request = PendingLogin(vendor_id=vendor_id, name=name, email=email.strip(), company_name=company_name,
                           password_hash=password_hash,
                           customer_id=None if customer is None else customer.id,
                           association_code_encrypted=None if customer is None else customer.association_code_encrypted,
                           pages=json.dumps(asdict(pages)), queued_at=now, expires_at=now + LIFETIME)
    session.add(request)
    session.flush()
    request_id = request.id
    after_commit(session, lambda: start_pending_login(request_id))


@huey.task(retries=3, retry_delay=60)
def start_pending_login(request_id: int) -> None:
    """Mail what request `request_id` asked for, once: a confirmation link (its hash kept, the request becomes a
    pending login), or, for an e-mail that has a login here, a note to its owner (the request is forgotten)."""
    with job_session() as session:
        request = session.get(PendingLogin, request_id)
        if request is None or request.token_hash is not None:
            return
        vendor = session.get(Vendor, request.vendor_id)
        pages = json.loads(request.pages)
        waiting = (PendingLogin.id == request_id) & PendingLogin.token_hash.is_(None)
        existing = accounts.find_account(session, vendor_id=request.vendor_id, email=request.email)
        if existing is not None:
            taken = session.execute(delete(PendingLogin).where(waiting))
            template = "signup_exists" if request.customer_id is None else "association_exists"
            queue_mail(session, to=existing.email, subject=f"Your {vendor.name} account", template=template,
                       vendor=vendor, login_page=pages["login_page"], forgot_page=pages["forgot_page"])
        else:
            token = new_token()
            taken = session.execute(update(PendingLogin).where(waiting)
                                    .values(token_hash=token_digest(token), pages="{}"))
            queue_mail(session, to=request.email, subject=f"Confirm your e-mail for {vendor.name}",
                       template="confirm_login", vendor=vendor, confirm_page=pages["confirm_page"], token=token)
        if taken.rowcount == 1:
            session.commit()
        else:  # another job mailed it meanwhile
            session.rollback()


def lost_requests(session: Session, *, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Up to `limit` requests still without their mail a while after they were queued, marked as queued now; the
    caller commits and queues them. One that a job mails or forgets meanwhile is left out (its job found it)."""
    now = now or utcnow()
    waiting = (PendingLogin.token_hash.is_(None), PendingLogin.expires_at > now)
    found = session.exec(select(PendingLogin.id).where(*waiting, PendingLogin.queued_at < now - STALE_AFTER)
                         .order_by(PendingLogin.id).limit(limit)).all()
    if not found:
        return []
    marked = session.execute(update(PendingLogin).where(PendingLogin.id.in_(found), *waiting)
                             .values(queued_at=now).returning(PendingLogin.id))
    return sorted(marked.scalars())


def queue_lost_requests(now: datetime | None = None) -> int:
    """The requests whose job was lost, queued again (a job each); how many."""
    return queue_again(lambda session: lost_requests(session, now=now), start_pending_login)


@huey.periodic_task(crontab(minute="*"))
def sweep_lost_requests() -> int:
    return queue_lost_requests()


def peek(session: Session, *, vendor_id: int, token: str) -> PendingLogin:
    """The live pending login of this token, without using the token up."""
    pending = session.exec(select(PendingLogin).where(PendingLogin.token_hash == token_digest(token or ""),
                                                      PendingLogin.vendor_id == vendor_id)).first()
    if pending is None or pending.used_at is not None or pending.expires_at <= utcnow():
        raise TokenNotValid()
    return pending


def confirm(session: Session, *, vendor_id: int, token: str, password: str, ip: str = "") -> PortalAccount:
    """Use the token once and make the login: with a new customer, or joining the customer whose link it came
    through (which the join uses up). The password must be the one chosen when asking: two requests with one e-mail
    (the owner's and someone else's) each get a link, and the owner's password opens only the owner's, so no one
    else's password becomes the owner's login. Raises TokenNotValid, LinkNotValid, or DomainError for another
    password (the token stays unused) or an e-mail that got a login meanwhile."""
    pending = peek(session, vendor_id=vendor_id, token=token)
    if not verify_password(pending.password_hash, password):
        raise DomainError("That is not the password chosen when this link was asked for. If you have more than one "
                          "of these mails, try the link in another: each link takes the password chosen with it.",
                          field="password")
    used = session.execute(update(PendingLogin).where(PendingLogin.id == pending.id, PendingLogin.used_at.is_(None))
                           .values(used_at=utcnow()))
    if used.rowcount != 1:
        raise TokenNotValid()
    if accounts.find_account(session, vendor_id=vendor_id, email=pending.email) is not None:
        raise DomainError("A login with this e-mail exists in this portal: log in with it.")
    if pending.customer_id is None:
        if not session.get(Vendor, vendor_id).signup_enabled:
            raise DomainError("Sign-up to this portal has closed since you asked; ask us for a link to it.")
        customer = accounts.customer_awaiting_login(session, vendor_id=vendor_id, email=pending.email)
        if customer is None:
            customer = customers.create_customer(session, vendor_id=vendor_id, actor=f"signup {pending.email}",
                                                 ip=ip, origin="signup", name=pending.name, email=pending.email,
                                                 company_name=pending.company_name)
        else:
            record_change(session, vendor_id=vendor_id, actor=f"signup {pending.email}",
                          action="account.joined_by_email", subject_type="customer", subject_id=customer.id,
                          after={"email": pending.email}, ip=ip)
    else:
        customer = session.get(Customer, pending.customer_id)
        if customer is None or customer.association_code_encrypted != pending.association_code_encrypted:
            raise customers.LinkNotValid()
        customers.claim_association_link(session, customer=customer)
    return accounts.create_account(session, vendor_id=vendor_id, customer_id=customer.id, email=pending.email,
                                   name=pending.name, password_hash=pending.password_hash, verified=True, ip=ip)


def forget_expired(session: Session, *, now=None) -> int:
    """Delete pending logins past their lifetime, and used ones: how many went."""
    now = now or utcnow()
    gone = session.execute(delete(PendingLogin).where(or_(PendingLogin.expires_at <= now,
                                                          PendingLogin.used_at.is_not(None))))
    return gone.rowcount


@huey.periodic_task(crontab(minute="17"))
def sweep_pending_logins() -> int:
    with job_session() as session:
        gone = forget_expired(session)
        session.commit()
    return gone
