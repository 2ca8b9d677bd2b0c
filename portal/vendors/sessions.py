"""The vendor user's login session (Flask-Login), ended from the server by bumping its session version."""

from dataclasses import dataclass

from flask import Flask
from flask_login import UserMixin

from portal.db import get_session
from portal.extensions import login_manager
from portal.models import VendorUser


@dataclass(frozen=True)
class VendorIdentity(UserMixin):
    id: int
    vendor_id: int
    email: str
    session_version: int

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def actor(self) -> str:
        return f"vendor_user:{self.id} {self.email}"


def identity_of(user: VendorUser) -> VendorIdentity:
    return VendorIdentity(id=user.id, vendor_id=user.vendor_id, email=user.email,
                          session_version=user.session_version)


def _load(user_id: str) -> VendorIdentity | None:
    user_part, _, version = user_id.partition(":")
    if not user_part.isdigit() or not version.isdigit():
        return None
    user = get_session().get(VendorUser, int(user_part))
    if user is None or user.session_version != int(version):
        return None
    return identity_of(user)


def init_app(app: Flask) -> None:
    login_manager.user_loader(_load)
    login_manager.login_view = "vendors.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.session_protection = "basic"
