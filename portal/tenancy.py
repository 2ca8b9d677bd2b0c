"""Which vendor a request belongs to: the vendor dashboard's logged-in user, or the portal's `@slug`."""

from flask import Blueprint, current_app, g, redirect, request, url_for
from flask_login import current_user

from portal.rendering import is_htmx, redirect_to

PORTAL_PREFIX = "/Portal/@<vendor_slug>"


def public(view):
    """Mark a view that needs no login (sign-up, login, association, password reset)."""
    view.is_public = True
    return view


def is_public_endpoint() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return view is None or getattr(view, "is_public", False)


def portal_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint under `/Portal/@<slug>/` whose views see the portal's vendor as `g.vendor` (the accounts package
    loads it, with the request's login, from the slug) and whose links name the same portal by default."""
    blueprint = Blueprint(name, import_name, url_prefix=PORTAL_PREFIX)

    @blueprint.url_defaults
    def _add_vendor(_endpoint, values):
        if "vendor_slug" not in values and "vendor" in g:
            values["vendor_slug"] = g.vendor.slug

    return blueprint


def vendor_blueprint(name: str, import_name: str, url_prefix: str) -> Blueprint:
    """A blueprint of the vendor dashboard: every view but the public ones needs a logged-in vendor user."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix)

    @blueprint.before_request
    def _require_vendor_user():
        if is_public_endpoint():
            return None
        if not current_user.is_authenticated:
            # A part of a page asking after the login ended (in another tab, or by a password change elsewhere):
            # the whole page goes to the login, not the login page into that part of it.
            login = url_for("vendors.login", next=request.full_path.rstrip("?"))
            return redirect_to(login) if is_htmx() else redirect(login)
        g.vendor_id = current_user.vendor_id
        return None

    return blueprint
