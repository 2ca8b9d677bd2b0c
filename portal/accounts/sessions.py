"""The portal account's login, kept per vendor in the session cookie and ended by its session version.

Vendor users log in through Flask-Login; a portal account is scoped to one vendor's portal, so its login is
keyed by vendor here instead. A browser can then be logged in to the vendor dashboard and to any number of
portals at once, and a login to one portal means nothing on another.

Every portal request starts with `load_portal`: one query finds the vendor by its slug, the account logged in
to its portal with the account's customer, and what the terms gate needs (the vendor's terms URL and whether
the account accepted exactly that address).
"""

from collections import namedtuple
from dataclasses import dataclass

from flask import Flask, abort, g, request, session, url_for
from sqlalchemy import and_, bindparam, exists
from sqlmodel import select

from portal.dataobjects.services import TERMS_URL, USER
from portal.db import get_session
from portal.models import ID_MAX, Customer, DataObject, PortalAccount, TermsAcceptance, Vendor
from portal.rendering import redirect_to
from portal.tenancy import is_public_endpoint

_PREFIX = "portal."


def _key(vendor_id: int) -> str:
    return f"{_PREFIX}{vendor_id}"


def log_in(account: PortalAccount) -> None:
    session[_key(account.vendor_id)] = [account.id, account.session_version]
    session.permanent = True


def log_out(vendor_id: int) -> None:
    session.pop(_key(vendor_id), None)


@dataclass(frozen=True, slots=True)
class TermsState:
    """The vendor's `cryptolens_customtosurl` as stored (None without one), and whether the logged-in account
    accepted that very value. A value the terms gate has to clean up first is checked again there."""

    stored_url: str | None
    accepted: bool


def _record_type(model, fields: tuple[str, ...]) -> type:
    """A read-only record of these columns of one row of the model's table (a named tuple: no ORM bookkeeping)."""
    return namedtuple(f"{model.__name__}Record", fields)


# What `g.vendor`, `g.account` and `g.customer` hold: plain records, read only, of what portal pages and checks
# use. Never the account's password hash, nor the customer's secret, association code or the vendor's notes: a
# portal request has no use for them (and on PostgreSQL each column read costs the driver a description and a
# conversion per request). A view that changes the account loads it as an ORM object first
# (`session.get(PortalAccount, g.account.id)`).
VendorRecord = _record_type(Vendor, tuple(column.key for column in Vendor.__table__.columns))
AccountRecord = _record_type(PortalAccount, ("id", "vendor_id", "customer_id", "email", "name", "email_verified_at",
                                             "session_version", "created"))
CustomerRecord = _record_type(Customer, ("id", "vendor_id", "name", "email", "company_name",
                                         "allow_activation_management", "allow_multiple_user_association",
                                         "max_no_of_devices"))
_RECORDS = ((VendorRecord, Vendor), (AccountRecord, PortalAccount), (CustomerRecord, Customer))


def _portal_statement(*, several: bool):
    # Built once from the tables: per request only the slug and the account ids change, so SQLAlchemy reuses the
    # compiled SQL, and Core rows need none of the ORM's work. A browser is nearly always logged in to one portal
    # at most: that statement binds one account id (an expanding IN is rewritten on every execution).
    (vendors, vendor), (accounts, account), (customers, customer) = (
        (model.__table__, [model.__table__.c[name] for name in record._fields]) for record, model in _RECORDS)
    data_objects, acceptances = DataObject.__table__, TermsAcceptance.__table__
    terms_url = (select(data_objects.c.string_value)
                 .where(data_objects.c.vendor_id == vendors.c.id, data_objects.c.referencer_type == USER,
                        data_objects.c.referencer_id == 0, data_objects.c.name == TERMS_URL)
                 .limit(1).correlate(vendors).scalar_subquery())
    accepted = exists().where(acceptances.c.account_id == accounts.c.id, acceptances.c.url == terms_url)
    return (select(*vendor, *account, *customer, terms_url.label("terms_url"),
                   accepted.label("terms_accepted"))
            .outerjoin(accounts, and_(accounts.c.vendor_id == vendors.c.id,
                                      accounts.c.id.in_(bindparam("account_ids", expanding=True)) if several
                                      else accounts.c.id == bindparam("account_id")))
            .outerjoin(customers, customers.c.id == accounts.c.customer_id)
            .where(vendors.c.slug == bindparam("slug")))


_PORTAL_ONE, _PORTAL_SEVERAL = _portal_statement(several=False), _portal_statement(several=True)


def _split(row) -> tuple:
    """(vendor, account or None, customer or None, terms URL as stored, accepted) from one row of `_PORTAL_*`."""
    records, start = [], 0
    for record_type, _model in _RECORDS:
        values = row[start:start + len(record_type._fields)]
        start += len(record_type._fields)
        records.append(record_type._make(values) if values[0] is not None else None)
    return (*records, row[start], bool(row[start + 1]))


def _stored_logins() -> dict[str, list]:
    return {key: value for key, value in session.items()
            if key.startswith(_PREFIX) and isinstance(value, list) and len(value) == 2
            and all(type(part) is int and 0 < part <= ID_MAX for part in value)}


def load_portal(slug: str) -> None:
    """Set `g.vendor`, `g.account`, `g.customer` and `g.terms` for a portal request; 404 for no such portal."""
    logins = _stored_logins()
    account_ids = [pair[0] for pair in logins.values()]
    if len(account_ids) > 1:
        statement, params = _PORTAL_SEVERAL, {"slug": slug, "account_ids": account_ids}
    else:  # no account has the id 0
        statement, params = _PORTAL_ONE, {"slug": slug, "account_id": account_ids[0] if account_ids else 0}
    rows = get_session().connection().execute(statement, params).all()
    if not rows:
        abort(404)
    found = [_split(row) for row in rows]
    vendor = found[0][0]
    if not vendor.portal_enabled:
        abort(404)
    g.vendor = vendor
    g.is_portal = True
    stored = logins.get(_key(vendor.id))
    mine = next((parts for parts in found if stored and parts[1] is not None and parts[1].id == stored[0]), None)
    account = mine[1] if mine else None
    if account is None or account.session_version != stored[1] or account.email_verified_at is None:
        if stored:
            log_out(vendor.id)
        g.account, g.customer, g.terms = None, None, TermsState(found[0][3], accepted=False)
        return
    g.account, g.customer, g.terms = account, mine[2], TermsState(mine[3], accepted=mine[4])


def require_account():
    """Before every portal request: a stranger is sent to the portal's login (public pages excepted)."""
    if not g.get("is_portal") or g.account is not None or is_public_endpoint():
        return None
    return redirect_to(url_for("accounts.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    app.extensions["portal.load"] = load_portal
    app.before_request(require_account)
