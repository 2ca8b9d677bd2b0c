"""The vendor's home: the counts that matter, the latest sign-ups and changes, and a getting-started list."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlmodel import Session, col

from portal.activity.services import ActivityPage, Filters, activity
from portal.dataobjects.services import TERMS_URL, USER
from portal.keys.standing import ACTIVE, BLOCKED, EXPIRING, conditions
from portal.models import AuditEvent, Customer, DataObject, LicenseKey, PortalAccount, Product, utcnow

RECENT = 5
MACHINES_WITHIN = timedelta(days=7)


@dataclass
class Counts:
    customers: int
    keys_active: int
    keys_expiring: int
    keys_blocked: int
    machines_activated: int  # in the last 7 days


@dataclass
class GettingStarted:
    product: bool  # a product exists
    terms: bool  # the terms data object is set
    signup: bool  # someone signed up through the generic link
    invited: bool  # an association link was made or mailed, or a customer has a login

    @property
    def done(self) -> bool:
        return self.product and self.terms and self.signup and self.invited


@dataclass
class Overview:
    counts: Counts
    steps: GettingStarted
    recent_accounts: list  # (PortalAccount, Customer), newest first
    activity: ActivityPage
    machines_since: date  # the first day of the activity the machines' count is of


def overview(session: Session, *, vendor_id: int, now: datetime | None = None) -> Overview:
    """Every count and step in one statement of index range counts and EXISTS (none reads a whole table)."""
    now = now or utcnow()
    row = session.connection().execute(_counts_and_steps(vendor_id, now)).one()
    recent = session.exec(
        select(PortalAccount, Customer).join(Customer, Customer.id == PortalAccount.customer_id)
        .where(PortalAccount.vendor_id == vendor_id).order_by(col(PortalAccount.id).desc()).limit(RECENT)).all()
    return Overview(counts=Counts(*row[:5]), steps=GettingStarted(*row[5:]), recent_accounts=list(recent),
                    activity=activity(session, vendor_id=vendor_id, filters=Filters(), limit=RECENT),
                    machines_since=_first_day_of_machines(now).date())


def _first_day_of_machines(now: datetime) -> datetime:
    """The start of the UTC day 7 days ago: the machines' count is of whole days, as the activity it opens is."""
    return datetime.combine((now - MACHINES_WITHIN).date(), time(), UTC)


def _count(model, *where):
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def _counts_and_steps(vendor_id: int, now: datetime):
    key, customer = LicenseKey, Customer
    # (vendor_id, block, expires) serves the three key counts; (vendor_id, action, created) the machines.
    return select(
        _count(customer, customer.vendor_id == vendor_id),
        *(_count(key, *conditions(standing, vendor_id=vendor_id, now=now)) for standing in (ACTIVE, EXPIRING, BLOCKED)),
        _count(AuditEvent, AuditEvent.vendor_id == vendor_id, AuditEvent.action == "key.machine_activated",
               AuditEvent.created >= _first_day_of_machines(now), AuditEvent.subject_type == "key"),
        exists().where(Product.vendor_id == vendor_id),
        exists().where(DataObject.vendor_id == vendor_id, DataObject.referencer_type == USER,
                       DataObject.referencer_id == 0, DataObject.name == TERMS_URL,
                       DataObject.string_value != ""),
        exists().where(customer.vendor_id == vendor_id, customer.origin == "signup"),
        or_(exists().where(and_(customer.vendor_id == vendor_id, or_(
                col(customer.association_code_encrypted).is_not(None),
                col(customer.association_mailed_at).is_not(None)))),
            exists().where(PortalAccount.vendor_id == vendor_id)),
    )
