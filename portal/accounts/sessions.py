"""The portal account's login, kept per vendor in the session cookie and ended by its session version.

Vendor users log in through Flask-Login; a portal account is scoped to one vendor's portal, so its login is
keyed by vendor here instead. A browser can then be logged in to the vendor dashboard and to any number of
portals at once, and a login to one portal means nothing on another.
"""

from flask import Flask, g, request, session, url_for
from sqlmodel import select

from portal.db import get_session
from portal.models import Customer, PortalAccount
from portal.rendering import redirect_to
from portal.tenancy import is_public_endpoint


def _key(vendor_id: int) -> str:
    return f"portal.{vendor_id}"


def log_in(account: PortalAccount) -> None:
    session[_key(account.vendor_id)] = [account.id, account.session_version]
    session.permanent = True


def log_out(vendor_id: int) -> None:
    session.pop(_key(vendor_id), None)


def _load_account() -> tuple[PortalAccount, Customer] | None:
    stored = session.get(_key(g.vendor.id))
    if not isinstance(stored, list) or len(stored) != 2:
        return None
    row = get_session().exec(
        select(PortalAccount, Customer)
        .join(Customer, Customer.id == PortalAccount.customer_id)
        .where(PortalAccount.id == stored[0], PortalAccount.vendor_id == g.vendor.id)
    ).first()
    if row is None or row[0].session_version != stored[1] or row[0].email_verified_at is None:
        log_out(g.vendor.id)
        return None
    return row[0], row[1]


def require_account():
    """Before every portal request: load the logged-in account, or send a stranger to the portal's login."""
    if not g.get("is_portal"):
        return None
    loaded = _load_account()
    g.account, g.customer = loaded if loaded else (None, None)
    if g.account is None and not is_public_endpoint():
        return redirect_to(url_for("accounts.login", next=request.full_path.rstrip("?")))
    return None


def init_app(app: Flask) -> None:
    app.before_request(require_account)
