"""A vendor user's forgotten password: a mailed link that sets a new one, once, within an hour.

The link's token is signed with the app's secret key (itsdangerous, the signer of Flask's own session cookie), not
stored: it names the user and a fingerprint of their password hash and session version as they were when it was
made. Setting a password changes both, so the link works once; the new one is written only while the hash is
still the one the link was made for (a compare-and-set in one UPDATE), so two uses of a link at the same moment
see one success. As the portal's reset does, the request only queues a job, the same for a known address and an
unknown one: its answer and its timing say nothing about who has an account.
"""

import hashlib
from datetime import timedelta

from itsdangerous import BadSignature
from sqlalchemy import update
from sqlmodel import Session

from portal.audit import record_change
from portal.domain import DomainError
from portal.jobs import after_commit, huey, job_session
from portal.mail import queue_mail
from portal.models import Vendor, VendorUser, new_session_secret
from portal.rules import normalize_email, valid_new_password
from portal.security import hash_password, link_signer, same_secret
from portal.vendors.services import find_vendor_user, tell_password_changed
from portal.words import possessive

LIFETIME = timedelta(hours=1)
_SALT = "vendor-password-reset"


class ResetLinkNotValid(DomainError):
    def __init__(self):
        super().__init__("This link has been used or has expired. Ask for a new one.")


def request_reset(session: Session, *, email: str, reset_page: str, login_page: str) -> None:
    """Mail a link to `reset_page` to the vendor user with this e-mail, if there is one (once the session
    commits)."""
    after_commit(session, lambda: send_reset_link(normalize_email(email), reset_page, login_page))


@huey.task(retries=3, retry_delay=60)
def send_reset_link(email: str, reset_page: str, login_page: str) -> None:
    with job_session() as session:
        user = find_vendor_user(session, email=email)
        vendor = session.get(Vendor, user.vendor_id) if user is not None else None
        if vendor is None:
            return
        queue_mail(session, to=user.email, subject=f"Reset your password for {possessive(vendor.name)} dashboard",
                   template="vendor_reset_password", vendor=vendor, portal_link=login_page,
                   portal_label="Your vendor dashboard", reset_page=reset_page, token=token_for(user))
        session.commit()


def user_of_link(session: Session, *, token: str) -> VendorUser:
    """The user a live link was made for; ResetLinkNotValid for a used, expired, altered or mistyped one."""
    try:
        user_id, fingerprint = link_signer(_SALT).loads(token or "", max_age=int(LIFETIME.total_seconds()))
        user = session.get(VendorUser, int(user_id))
    except (BadSignature, TypeError, ValueError):
        raise ResetLinkNotValid() from None
    if user is None or not same_secret(str(fingerprint), _fingerprint(user)):
        raise ResetLinkNotValid()
    return user


def reset_password(session: Session, *, token: str, password: str, ip: str = "") -> VendorUser:
    """Set the password the link was mailed for; every session of the user ends (the caller logs this one in)."""
    user = user_of_link(session, token=token)
    valid_new_password(password, user_inputs=(user.email, user.name))
    written = session.execute(
        update(VendorUser)
        .where(VendorUser.id == user.id, VendorUser.password_hash == user.password_hash,
               VendorUser.session_secret == user.session_secret)
        .values(password_hash=hash_password(password), session_secret=new_session_secret()))
    if written.rowcount != 1:
        raise ResetLinkNotValid()
    session.refresh(user)
    record_change(session, vendor_id=user.vendor_id, actor=f"vendor_user:{user.id} {user.email}",
                  action="vendor_user.password_reset", subject_type="vendor", subject_id=user.vendor_id,
                  after={"vendor_user": user.email}, ip=ip)
    tell_password_changed(session, user=user)
    return user


def _fingerprint(user: VendorUser) -> str:
    return hashlib.sha256(f"{user.password_hash}\0{user.session_secret}".encode()).hexdigest()[:32]


def token_for(user: VendorUser) -> str:
    """The token of a link that sets the user's password (in an app: it is signed with its secret key)."""
    return link_signer(_SALT).dumps([user.id, _fingerprint(user)])
