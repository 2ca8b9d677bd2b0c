"""The vendor user's login session (Flask-Login), ended from the server by bumping its session version."""

from dataclasses import dataclass

from flask import Flask
from flask_login import UserMixin, login_user
from sqlalchemy import bindparam, select

from portal.db import get_session
from portal.extensions import login_manager
from portal.models import ID_MAX, VendorUser
from portal.security import same_secret
from portal.web import renew_csrf_token


@dataclass(frozen=True)
class VendorIdentity(UserMixin):
    id: int
    vendor_id: int
    email: str
    session_secret: str

    def get_id(self) -> str:
        return f"{self.id}:{self.session_secret}"

    @property
    def actor(self) -> str:
        return f"vendor_user:{self.id} {self.email}"


def identity_of(user) -> VendorIdentity:
    """The login of a VendorUser, or of a row with its id, vendor_id, email and session_secret."""
    return VendorIdentity(id=user.id, vendor_id=user.vendor_id, email=user.email, session_secret=user.session_secret)


_USER = VendorUser.__table__.c
# Built once and read as a plain row: every dashboard request loads its user.
_IDENTITY = (select(_USER.id, _USER.vendor_id, _USER.email, _USER.session_secret)
             .where(_USER.id == bindparam("id")))


def log_in(user) -> None:
    """Log the vendor user in on this browser, with a CSRF token of the new login's own."""
    login_user(identity_of(user))
    renew_csrf_token()


def _load(user_id: str) -> VendorIdentity | None:
    user_part, _, secret = user_id.partition(":")
    if not (user_part.isdecimal() and len(user_part) <= 10 and int(user_part) <= ID_MAX and secret):
        return None
    row = get_session().connection().execute(_IDENTITY, {"id": int(user_part)}).first()
    if row is None or not same_secret(secret, row.session_secret):
        return None
    return identity_of(row)


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load)
    login_manager.login_view = "vendors.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.session_protection = "basic"
