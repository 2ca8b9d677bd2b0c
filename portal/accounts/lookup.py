"""Who a portal request is for, in one query: the vendor by its slug, the logged-in account and its customer, and
whether that account accepted the vendor's current terms of use."""

from collections import namedtuple
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, exists
from sqlmodel import Session, select

from portal.dataobjects.services import TERMS_URL, USER
from portal.models import Customer, DataObject, PortalAccount, TermsAcceptance, Vendor

# What a portal request holds of its vendor, account and customer: plain read-only records of what portal pages
# and checks use. Never the account's password hash, nor the customer's secret or association code: a portal
# request has no use for them. A view that changes the account loads it as an ORM object first.
VendorRecord = namedtuple("VendorRecord", [column.key for column in Vendor.__table__.columns])
AccountRecord = namedtuple("AccountRecord", ("id", "vendor_id", "customer_id", "email", "name", "email_verified_at",
                                             "session_secret", "created"))
CustomerRecord = namedtuple("CustomerRecord", ("id", "vendor_id", "name", "email", "company_name",
                                               "allow_activation_management", "allow_multiple_user_association",
                                               "max_no_of_devices"))
_PARTS = {"vendor": (VendorRecord, Vendor), "account": (AccountRecord, PortalAccount),
          "customer": (CustomerRecord, Customer)}


@dataclass(frozen=True, slots=True)
class TermsState:
    """The vendor's `cryptolens_customtosurl` as stored (None without one), and whether the logged-in account
    accepted that very value. A value the terms gate has to clean up first is checked again there."""

    stored_url: str | None
    accepted: bool


@dataclass(frozen=True, slots=True)
class PortalVisit:
    """A portal request's vendor and, for each account id the browser named that is this vendor's, the account
    with its customer and its terms state."""

    vendor: VendorRecord
    terms_url: str | None
    logins: dict[int, tuple[AccountRecord, CustomerRecord, TermsState]]


def _statement():
    # Prebuilt from the tables: every portal request runs it with only the slug and account ids changing.
    tables = {part: model.__table__ for part, (_record, model) in _PARTS.items()}
    columns = [tables[part].c[name].label(f"{part}_{name}")
               for part, (record, _model) in _PARTS.items() for name in record._fields]
    vendors, accounts, customers = tables["vendor"], tables["account"], tables["customer"]
    data_objects, acceptances = DataObject.__table__, TermsAcceptance.__table__
    terms_url = (select(data_objects.c.string_value)
                 .where(data_objects.c.vendor_id == vendors.c.id, data_objects.c.referencer_type == USER,
                        data_objects.c.referencer_id == 0, data_objects.c.name == TERMS_URL)
                 .limit(1).correlate(vendors).scalar_subquery())
    accepted = exists().where(acceptances.c.account_id == accounts.c.id, acceptances.c.url == terms_url)
    return (select(*columns, terms_url.label("terms_url"), accepted.label("terms_accepted"))
            .outerjoin(accounts, and_(accounts.c.vendor_id == vendors.c.id,
                                      accounts.c.id.in_(bindparam("account_ids", expanding=True))))
            .outerjoin(customers, customers.c.id == accounts.c.customer_id)
            .where(vendors.c.slug == bindparam("slug")))


_VISIT = _statement()


def _record(part: str, row):
    record_type = _PARTS[part][0]
    return record_type._make(row[f"{part}_{name}"] for name in record_type._fields)


def visit(session: Session, *, slug: str, account_ids: list[int]) -> PortalVisit | None:
    """The portal at `slug` and the accounts among `account_ids` that belong to it; None for no such portal."""
    rows = session.connection().execute(_VISIT, {"slug": slug, "account_ids": account_ids}).mappings().all()
    if not rows:
        return None
    logins = {row["account_id"]: (_record("account", row), _record("customer", row),
                                  TermsState(row["terms_url"], accepted=bool(row["terms_accepted"])))
              for row in rows if row["account_id"] is not None}
    return PortalVisit(vendor=_record("vendor", rows[0]), terms_url=rows[0]["terms_url"], logins=logins)
