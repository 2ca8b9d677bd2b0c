"""The vendor's verbs: register, authenticate, change settings, summarise."""

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.audit import record_change, snapshot
from portal.domain import DomainError
from portal.models import Customer, PortalAccount, Vendor, VendorUser
from portal.security import hash_password, needs_rehash, upgrade_hash, verify_password
from portal.tenancy import SLUG_PATTERN, normalize_slug


def register_vendor(session: Session, *, name: str, slug: str, email: str, password: str) -> VendorUser:
    slug = normalize_slug(slug)
    if not SLUG_PATTERN.match(slug):
        raise DomainError("That portal address is not valid.", field="slug")
    if session.exec(select(Vendor.id).where(Vendor.slug == slug)).first() is not None:
        raise DomainError("That portal address is taken.", field="slug")
    email = email.strip().lower()
    if session.exec(select(VendorUser.id).where(VendorUser.email == email)).first() is not None:
        # Vendor registration names no customer data, and an owner must be reachable: saying so is fine here.
        raise DomainError("An account with that e-mail exists. Log in instead.", field="email")
    vendor = Vendor(name=name, slug=slug)
    session.add(vendor)
    try:
        session.flush()
        user = VendorUser(vendor_id=vendor.id, email=email, password_hash=hash_password(password))
        session.add(user)
        session.flush()
    except IntegrityError as error:
        raise DomainError("That portal address or e-mail was just taken.", field="slug") from error
    record_change(session, vendor_id=vendor.id, actor=f"vendor_user:{user.id} {email}",
                  action="vendor.registered", subject_type="vendor", subject_id=vendor.id,
                  after=snapshot(vendor))
    return user


def authenticate_vendor_user(session: Session, *, email: str, password: str) -> VendorUser | None:
    user = session.exec(select(VendorUser).where(VendorUser.email == email.strip().lower())).first()
    if not verify_password(user.password_hash if user else None, password):
        return None
    if needs_rehash(user.password_hash):
        upgrade_hash(session, VendorUser, user, password)
    return user


def set_vendor_password(session: Session, *, user: VendorUser, password: str, actor: str, ip: str = "") -> VendorUser:
    """A new password ends every session of the user; the caller logs the current one in again."""
    user.password_hash = hash_password(password)
    user.session_version += 1
    session.add(user)
    record_change(session, vendor_id=user.vendor_id, actor=actor, action="vendor_user.password_changed",
                  subject_type="vendor", subject_id=user.vendor_id, after={"vendor_user": user.email}, ip=ip)
    return user


def end_sessions_of_vendor_user(session: Session, *, user_id: int) -> None:
    session.execute(update(VendorUser).where(VendorUser.id == user_id)
                    .values(session_version=VendorUser.session_version + 1))


def update_settings(session: Session, *, vendor: Vendor, portal_enabled: bool, signup_enabled: bool,
                    actor: str, block_expired_keys: bool | None = None, ip: str = "") -> Vendor:
    before = snapshot(vendor)
    turned_off = vendor.portal_enabled and not portal_enabled
    vendor.portal_enabled = portal_enabled
    vendor.signup_enabled = signup_enabled
    if block_expired_keys is not None:
        vendor.block_expired_keys = block_expired_keys
    session.add(vendor)
    if turned_off:
        session.execute(update(PortalAccount).where(PortalAccount.vendor_id == vendor.id)
                        .values(session_version=PortalAccount.session_version + 1))
    record_change(session, vendor_id=vendor.id, actor=actor, action="vendor.settings_changed",
                  subject_type="vendor", subject_id=vendor.id, before=before, after=snapshot(vendor), ip=ip)
    return vendor


@dataclass
class Overview:
    customers: int
    accounts: int
    recent_accounts: list


def overview(session: Session, *, vendor_id: int) -> Overview:
    customers = session.exec(select(func.count()).select_from(Customer)
                             .where(Customer.vendor_id == vendor_id)).one()
    accounts = session.exec(select(func.count()).select_from(PortalAccount)
                            .where(PortalAccount.vendor_id == vendor_id)).one()
    recent = session.exec(
        select(PortalAccount, Customer)
        .join(Customer, Customer.id == PortalAccount.customer_id)
        .where(PortalAccount.vendor_id == vendor_id)
        .order_by(PortalAccount.id.desc())
        .limit(10)
    ).all()
    return Overview(customers=customers, accounts=accounts, recent_accounts=recent)
