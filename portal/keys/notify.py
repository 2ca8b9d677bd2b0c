"""Mail to a customer about their licenses, in the vendor's name: never the key, only a link to the portal.

"A new license is waiting" when a key is given to them (made for a subscription or repaired into being, made or
bulk-made for them on the vendor's pages, or moved to them), unless the vendor turned "Mail customers about new
licenses" off; and a reminder before a key expires (portal/keys/reminders.py). Both go to the customer's portal
logins or, with none, to the customer's own e-mail.
"""

from sqlmodel import Session, select

from portal.accounts.services import customer_awaiting_login
from portal.mail import portal_home, queue_mail
from portal.models import Customer, LicenseKey, PortalAccount, Product, Vendor


def addresses_of(session: Session, *, customer_id: int) -> tuple[list[str], bool]:
    """Where a customer's license mail goes, and whether they have a portal login (else: their own e-mail)."""
    logins = session.exec(select(PortalAccount.email).where(PortalAccount.customer_id == customer_id)).all()
    if logins:
        return sorted(set(logins)), True
    customer_email = session.get(Customer, customer_id).email  # loaded already when the key was just made
    return ([customer_email] if customer_email else []), False


def way_in(session: Session, *, customer_id: int, has_login: bool, vendor: Vendor) -> str:
    """How the mail's reader gets to see the license: "login" (they have one), "signup" (a sign-up with this e-mail
    joins the customer: accounts.customer_awaiting_login), "link" (the vendor's association link is the way in) or
    "ask"."""
    if has_login:
        return "login"
    customer = session.get(Customer, customer_id)
    if customer.enable_customer_association:
        return "link"
    joins = vendor.signup_enabled and customer_awaiting_login(
        session, vendor_id=vendor.id, email=customer.email) is customer
    return "signup" if joins else "ask"


def mail_new_license(session: Session, *, key: LicenseKey, portal_link: str | None, count: int = 1) -> int:
    """Queue the mail about `key` (or about `count` keys made together, `key` the first); it is sent once the
    session commits. Returns to how many addresses."""
    if portal_link is None or key.customer_id is None:
        return 0
    vendor = session.get(Vendor, key.vendor_id)
    if not vendor.mail_new_licenses or not vendor.portal_enabled:
        return 0
    addresses, has_login = addresses_of(session, customer_id=key.customer_id)
    if not addresses:
        return 0
    product = session.get(Product, key.product_id).name
    subject = (f"Your new {product} license from {vendor.name}" if count == 1
               else f"{count:,} new {product} licenses from {vendor.name}")
    way = way_in(session, customer_id=key.customer_id, has_login=has_login, vendor=vendor)
    for address in addresses:
        queue_mail(session, to=address, subject=subject, template="new_license", vendor=vendor,
                   portal_link=portal_link, product_name=product, has_login=has_login, count=count, way_in=way)
    return len(addresses)


def announce_new_license(session: Session, *, key: LicenseKey, count: int = 1) -> int:
    """The new-license mail for a key given to a customer on the vendor's pages (or a batch of `count`), linking
    the portal's home."""
    if key.customer_id is None:
        return 0
    return mail_new_license(session, key=key, portal_link=portal_home(session.get(Vendor, key.vendor_id).slug),
                            count=count)


def mail_expiry_reminder(session: Session, *, key: LicenseKey, vendor: Vendor, product: Product,
                         portal_link: str | None = None) -> int:
    """Queue the reminder that `key` expires soon; returns to how many addresses."""
    addresses, has_login = addresses_of(session, customer_id=key.customer_id)
    if not addresses:
        return 0
    day = key.expires.strftime("%Y-%m-%d")
    way = way_in(session, customer_id=key.customer_id, has_login=has_login, vendor=vendor)
    for address in addresses:
        queue_mail(session, to=address, subject=f"Your {product.name} license expires on {day}",
                   template="expiry_reminder", vendor=vendor, portal_link=portal_link, product_name=product.name,
                   expires=f"{day} {key.expires.strftime('%H:%M')} UTC", key_number=key.key_number,
                   has_login=has_login, way_in=way)
    return len(addresses)
