"""The vendor's verbs: register, authenticate, change settings, summarise."""

from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.audit import record_change, snapshot
from portal.domain import DomainError
from portal.keys.reminders import MAX_DAYS as MAX_REMINDER_DAYS
from portal.mail import link_to, mail_password_changed
from portal.models import NAME_MAX, PortalAccount, Vendor, VendorUser, new_session_secret
from portal.rules import normalize_email, normalize_slug, valid_email, valid_name, valid_new_password, valid_slug
from portal.security import hash_password, needs_rehash, upgrade_hash, verify_password
from portal.words import possessive


def register_vendor(session: Session, *, name: str, slug: str, email: str, password: str) -> VendorUser:
    """A new vendor and its owner's login, by the same rules whether from the page or the command line."""
    name = valid_name(name, max_length=NAME_MAX)
    slug = valid_slug(slug)
    email = normalize_email(valid_email(email))
    valid_new_password(password, user_inputs=(email, name, slug))
    if find_vendor(session, slug=slug) is not None:
        raise DomainError("That portal address is taken.", field="slug")
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


def find_vendor(session: Session, *, slug: str) -> Vendor | None:
    return session.exec(select(Vendor).where(Vendor.slug == normalize_slug(slug))).first()


def find_vendor_user(session: Session, *, email: str) -> VendorUser | None:
    return session.exec(select(VendorUser).where(VendorUser.email == normalize_email(email))).first()


def owner_of(session: Session, *, vendor_id: int) -> VendorUser | None:
    """The vendor's first user: the one who registered it."""
    return session.exec(select(VendorUser).where(VendorUser.vendor_id == vendor_id).order_by(VendorUser.id)).first()


def authenticate_vendor_user(session: Session, *, email: str, password: str) -> VendorUser | None:
    user = find_vendor_user(session, email=email)
    if not verify_password(user.password_hash if user else None, password):
        return None
    if needs_rehash(user.password_hash):
        upgrade_hash(session, VendorUser, user, password)
    return user


def set_vendor_password(session: Session, *, user: VendorUser, password: str, actor: str, ip: str = "") -> VendorUser:
    """A new password ends every session of the user; the caller logs the current one in again."""
    valid_new_password(password, user_inputs=(user.email, user.name))
    user.password_hash = hash_password(password)
    user.session_secret = new_session_secret()
    session.add(user)
    record_change(session, vendor_id=user.vendor_id, actor=actor, action="vendor_user.password_changed",
                  subject_type="vendor", subject_id=user.vendor_id, after={"vendor_user": user.email}, ip=ip)
    tell_password_changed(session, user=user)
    return user


def tell_password_changed(session: Session, *, user: VendorUser) -> None:
    vendor = session.get(Vendor, user.vendor_id)
    mail_password_changed(session, to=user.email, vendor=vendor, login_of=f"{possessive(vendor.name)} vendor dashboard",
                          forgot_page=link_to("vendors.forgot_password"), portal_link=link_to("vendors.login"),
                          portal_label="Your vendor dashboard")


def change_vendor_password(session: Session, *, user_id: int, current: str, new: str, actor: str,
                           ip: str = "") -> VendorUser:
    """The user's own change: the current password proves it is the owner asking."""
    user = session.get(VendorUser, user_id)
    if not verify_password(user.password_hash, current):
        raise DomainError("That is not your current password.", field="current_password")
    if new == current:
        raise DomainError("That is the password you have now: choose a new one.", field="password")
    return set_vendor_password(session, user=user, password=new, actor=actor, ip=ip)


def get_vendor(session: Session, *, vendor_id: int) -> Vendor:
    return session.get(Vendor, vendor_id)


def end_sessions_of_vendor_user(session: Session, *, user_id: int) -> None:
    session.execute(update(VendorUser).where(VendorUser.id == user_id).values(session_secret=new_session_secret()))


def update_settings(session: Session, *, vendor: Vendor, portal_enabled: bool, signup_enabled: bool,
                    actor: str, block_expired_keys: bool | None = None, mail_new_licenses: bool | None = None,
                    ip: str = "") -> Vendor:
    before = snapshot(vendor)
    turned_off = vendor.portal_enabled and not portal_enabled
    vendor.portal_enabled = portal_enabled
    vendor.signup_enabled = signup_enabled
    if block_expired_keys is not None:
        vendor.block_expired_keys = block_expired_keys
    if mail_new_licenses is not None:
        vendor.mail_new_licenses = mail_new_licenses
    session.add(vendor)
    if turned_off:  # every login to the portal ends, each with a secret of its own
        ids = session.exec(select(PortalAccount.id).where(PortalAccount.vendor_id == vendor.id)).all()
        if ids:
            session.execute(update(PortalAccount.__table__).where(PortalAccount.__table__.c.id == bindparam("row_id"))
                            .values(session_secret=bindparam("secret")),
                            [{"row_id": row_id, "secret": new_session_secret()} for row_id in ids])
    record_change(session, vendor_id=vendor.id, actor=actor, action="vendor.settings_changed",
                  subject_type="vendor", subject_id=vendor.id, before=before, after=snapshot(vendor), ip=ip)
    return vendor


def rename_vendor(session: Session, *, vendor: Vendor, name: str, actor: str, ip: str = "") -> Vendor:
    """The company's name, shown on every page of its portal and in every mail it sends."""
    return _set(session, vendor, "name", valid_name(name, max_length=NAME_MAX), actor, ip)


def set_expiry_reminder(session: Session, *, vendor: Vendor, days: int, actor: str, ip: str = "") -> Vendor:
    """Mail customers `days` before a key of theirs expires (0: never); portal/keys/reminders.py sends them."""
    if not 0 <= days <= MAX_REMINDER_DAYS:
        raise DomainError(f"Give a whole number of days from 0 to {MAX_REMINDER_DAYS}.",
                          field="remind_days_before_expiry")
    return _set(session, vendor, "remind_days_before_expiry", days, actor, ip)


def _set(session: Session, vendor: Vendor, name: str, value, actor: str, ip: str) -> Vendor:
    """One setting of the vendor's changed, and recorded as a settings change."""
    before = {name: getattr(vendor, name)}
    setattr(vendor, name, value)
    session.add(vendor)
    record_change(session, vendor_id=vendor.id, actor=actor, action="vendor.settings_changed", subject_type="vendor",
                  subject_id=vendor.id, before=before, after={name: value}, ip=ip)
    return vendor

