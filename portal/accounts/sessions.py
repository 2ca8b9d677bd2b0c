"""The portal account's login, kept per vendor in the session cookie and ended by its session version.

Vendor users log in through Flask-Login; a portal account is scoped to one vendor's portal, so its login is
keyed by vendor here instead. A browser can then be logged in to the vendor dashboard and to any number of
portals at once, and a login to one portal means nothing on another.
"""

import re

from flask import Flask, abort, g, request, session, url_for

from portal.accounts import lookup, services
from portal.db import get_session
from portal.models import ID_MAX, PortalAccount
from portal.rendering import redirect_to
from portal.rules import SLUG_PATTERN, normalize_slug
from portal.security import same_secret
from portal.tenancy import is_public_endpoint
from portal.web import renew_csrf_token

_PREFIX = "portal."


def _key(vendor_id: int) -> str:
    return f"{_PREFIX}{vendor_id}"


def log_in(account: PortalAccount) -> None:
    session[_key(account.vendor_id)] = [account.id, account.session_secret]
    session.permanent = True
    renew_csrf_token()


def log_out(vendor_id: int) -> None:
    session.pop(_key(vendor_id), None)


def end_login() -> None:
    """Log the request's account out here and on every other device (its session version moves on)."""
    db_session = get_session()
    services.end_sessions(db_session, account_id=g.account.id)
    db_session.commit()
    log_out(g.vendor.id)


def _stored_logins() -> dict[str, list]:
    return {key: value for key, value in session.items()
            if key.startswith(_PREFIX) and isinstance(value, list) and len(value) == 2
            and type(value[0]) is int and 0 < value[0] <= ID_MAX and isinstance(value[1], str)}


# A portal's address that no page answers: its "Not found" is shown in the portal's own layout.
_UNROUTED_PORTAL_PATH = re.compile(r"/Portal/@([^/]+)/", re.IGNORECASE)


def load_portal(_endpoint, values) -> None:
    """For a URL under `/Portal/@<slug>/`: set `g.vendor`, `g.account`, `g.customer` and `g.terms`; 404 for no
    such portal or a disabled one. A stored login that no longer matches its account is forgotten."""
    if values is None and request.url_rule is None and (unrouted := _UNROUTED_PORTAL_PATH.match(request.path)):
        values = {"vendor_slug": unrouted.group(1)}
    if not values or "vendor_slug" not in values:
        return
    slug = normalize_slug(values.pop("vendor_slug"))
    if not SLUG_PATTERN.match(slug):  # a slug no vendor can have (a NUL byte, say) never reaches the database
        abort(404)
    logins = _stored_logins()
    found = lookup.visit(get_session(), slug=slug, account_ids=[pair[0] for pair in logins.values()])
    if found is None or not found.vendor.portal_enabled:
        abort(404)
    g.vendor, g.is_portal = found.vendor, True
    stored = logins.get(_key(found.vendor.id))
    login = found.logins.get(stored[0]) if stored else None
    if login is None or not same_secret(stored[1], login[0].session_secret) or login[0].email_verified_at is None:
        if stored:
            log_out(found.vendor.id)
        g.account, g.customer, g.terms = None, None, lookup.TermsState(found.terms_url, accepted=False)
        return
    g.account, g.customer, g.terms = login


def require_account():
    """Before every portal request: a stranger is sent to the portal's login (public pages excepted)."""
    if not g.get("is_portal") or g.account is not None or is_public_endpoint():
        return None
    return redirect_to(url_for("accounts.login", next=request.full_path.rstrip("?")))


def init_app(app: Flask) -> None:
    app.url_value_preprocessor(load_portal)
    app.before_request(require_account)
