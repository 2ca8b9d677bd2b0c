"""The mail that tells a customer a new license is waiting in the portal: never the key, only a link to it.

Sent when a key is made for a subscription (or repaired into being), to the customer's portal logins or, with
none, to the customer's own e-mail; the vendor's setting "Mail customers about new licenses" turns it off.
"""

from sqlmodel import Session, select

from portal.mail import queue_mail
from portal.models import Customer, LicenseKey, PortalAccount, Product, Vendor


def mail_new_license(session: Session, *, key: LicenseKey, portal_link: str | None) -> int:
    """Queue the mail (sent once the session commits); returns to how many addresses."""
    if portal_link is None or key.customer_id is None:
        return 0
    vendor = session.get(Vendor, key.vendor_id)
    if not vendor.mail_new_licenses or not vendor.portal_enabled:
        return 0
    logins = session.exec(select(PortalAccount.email).where(PortalAccount.customer_id == key.customer_id)).all()
    customer_email = session.get(Customer, key.customer_id).email  # loaded already when the key was just made
    addresses = sorted(set(logins)) or ([customer_email] if customer_email else [])
    product = session.get(Product, key.product_id).name
    for address in addresses:
        queue_mail(session, to=address, subject=f"Your new {product} license from {vendor.name}",
                   template="new_license", vendor_name=vendor.name, product_name=product, portal_link=portal_link,
                   has_login=bool(logins))
    return len(addresses)
