"""A vendor's registration, proven by mail. The form asks for the company, the portal address and an e-mail, and
answers the same for any e-mail ("check your mail"); a job then mails a link to finish (choose the password: the
vendor and its owner's login are made), or, to an address that already logs in to a dashboard here, a note with
the login and forgot-password links. So the page tells no one which e-mails have a vendor login, and no vendor is
made for an address its owner did not confirm.

The link's token is signed with the app's secret key (itsdangerous, as the password reset's), not stored: it
carries the company, the portal address and the e-mail, for two days. What it makes uses it up: while its e-mail
has a vendor login here, the link says it has been used. The mail does not repeat the company's name: whoever
asks chooses it, and a mail in the portal's name should carry no words of theirs.
"""

from dataclasses import astuple, dataclass
from datetime import timedelta

from itsdangerous import BadSignature
from sqlmodel import Session

from portal.domain import DomainError
from portal.jobs import after_commit, huey, job_session
from portal.mail import queue_mail, queue_operator_mail
from portal.models import NAME_MAX, Vendor, VendorUser
from portal.rules import normalize_email, valid_email, valid_name, valid_slug
from portal.security import link_signer
from portal.vendors.services import find_vendor, find_vendor_user, register_vendor

LIFETIME = timedelta(hours=48)
_SALT = "vendor-registration"


class RegistrationLinkNotValid(DomainError):
    def __init__(self):
        super().__init__("This link has been used or has expired.")


@dataclass(frozen=True)
class Asked:
    """What the first form asked for: the company's name, its portal address and the owner's e-mail."""

    name: str
    slug: str
    email: str


@dataclass(frozen=True)
class Pages:
    """The pages the mails link to, as absolute URLs (a job has no request to build them from)."""

    finish_page: str
    login_page: str
    forgot_page: str


def checked(session: Session, *, name: str, slug: str, email: str) -> Asked:
    """The form's values by the registration's rules; a taken portal address is refused here (portal addresses are
    public), a known e-mail is not (the mail tells its owner)."""
    asked = Asked(valid_name(name, max_length=NAME_MAX), valid_slug(slug), normalize_email(valid_email(email)))
    if find_vendor(session, slug=asked.slug) is not None:
        raise DomainError("That portal address is taken.", field="slug")
    return asked


def request_registration(session: Session, *, asked: Asked, pages: Pages) -> None:
    """Mail the link to finish (or the note to an address that has a login), once the session commits."""
    after_commit(session, lambda: send_registration_mail(astuple(asked), astuple(pages)))


@huey.task(retries=3, retry_delay=60)
def send_registration_mail(asked: tuple, pages: tuple) -> None:
    asked, pages = Asked(*asked), Pages(*pages)
    with job_session() as session:
        user = find_vendor_user(session, email=asked.email)
        vendor = session.get(Vendor, user.vendor_id) if user is not None else None
        if vendor is not None:
            queue_mail(session, to=user.email, subject=f"You have a vendor account for {vendor.name}",
                       template="vendor_account_exists", vendor=vendor, portal_link=pages.login_page,
                       portal_label="Your vendor dashboard", login_page=pages.login_page,
                       forgot_page=pages.forgot_page)
        else:
            queue_operator_mail(session, to=asked.email, subject="Finish creating your vendor account",
                                template="vendor_finish_registration", dashboard_link=pages.login_page,
                                finish_page=pages.finish_page, token=token_for(asked))
        session.commit()


def token_for(asked: Asked) -> str:
    """The token of a link that finishes this registration (in an app: it is signed with its secret key)."""
    return link_signer(_SALT).dumps(list(astuple(asked)))


def asked_of_link(session: Session, *, token: str) -> Asked:
    """What a live link's registration asked for; RegistrationLinkNotValid for an expired, altered or mistyped
    one, or one whose e-mail logs in here already (the link was used)."""
    try:
        values = link_signer(_SALT).loads(token or "", max_age=int(LIFETIME.total_seconds()))
        asked = Asked(*(str(value) for value in values))
    except (BadSignature, TypeError, ValueError):
        raise RegistrationLinkNotValid() from None
    if find_vendor_user(session, email=asked.email) is not None:
        raise RegistrationLinkNotValid()
    return asked


def finish(session: Session, *, token: str, name: str, slug: str, password: str) -> VendorUser:
    """Make the vendor and its owner's login with the link's e-mail (the company and the address as confirmed on the
    page, which may differ from the first form's)."""
    asked = asked_of_link(session, token=token)
    return register_vendor(session, name=name, slug=slug, email=asked.email, password=password)
