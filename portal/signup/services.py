"""Getting end customers in with a login they already have: joining the customer behind an association link.
(New logins wait for their mailed link: portal/signup/pending.py.)"""


from sqlalchemy import exists, or_
from sqlmodel import Session, select

from portal.audit import record_change
from portal.billing_models import StripeCustomer, Subscription
from portal.customers import services as customers
from portal.domain import DomainError
from portal.models import Customer, LicenseKey, PortalAccount


def associate_existing_account(session: Session, *, customer: Customer, account: PortalAccount,
                               ip: str = "") -> PortalAccount:
    """Move an account to the customer behind the link, if the account's own record is an empty sign-up."""
    if account.customer_id == customer.id:
        raise DomainError("Your account already belongs to this customer.")
    own = session.get(Customer, account.customer_id)
    if not _is_empty_signup(session, own, account):
        raise DomainError("Your account already belongs to another customer record, so it cannot join this "
                          "one. Create a new login here instead, or ask the vendor for help.")
    customers.claim_association_link(session, customer=customer)
    account.customer_id = customer.id
    session.add(account)
    session.flush()
    record_change(session, vendor_id=customer.vendor_id, actor=f"account:{account.id} {account.email}",
                  action="account.associated", subject_type="customer", subject_id=customer.id,
                  before={"customer_id": own.id}, after={"customer_id": customer.id}, ip=ip)
    customers.delete_customer(session, customer=own, actor=f"account:{account.id} {account.email}", ip=ip)
    return account


def _is_empty_signup(session: Session, customer: Customer | None, account: PortalAccount) -> bool:
    """A record the sign-up made and nothing else holds: no other login, no key, and nothing in Stripe (a Stripe
    customer, say from a Checkout left open, whose payment would otherwise make a key for a customer no login
    sees)."""
    if customer is None or customer.origin != "signup":
        return False
    held = [select(PortalAccount.id).where(PortalAccount.customer_id == customer.id, PortalAccount.id != account.id),
            select(LicenseKey.id).where(LicenseKey.customer_id == customer.id),
            select(StripeCustomer.id).where(StripeCustomer.customer_id == customer.id),
            select(Subscription.id).where(Subscription.customer_id == customer.id)]
    return not session.exec(select(or_(*(exists(query) for query in held)))).one()
