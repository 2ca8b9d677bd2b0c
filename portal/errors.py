"""Error pages: neutral, in the site's layout."""

import logging

from flask import Flask, g, redirect, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from portal.domain import NotFound

log = logging.getLogger(__name__)
NOT_FOUND = "There is nothing here. Check the address, or ask whoever gave you the link for a new one."


def _error_page(title: str, message: str) -> str:
    """An error page: in a customer portal, in the portal's own layout, named for its vendor, with its links."""
    if g.get("is_portal"):
        return render_template("errors/portal.html", title=title, message=message, vendor=g.vendor)
    return render_template("errors/error.html", title=title, message=message)


def init_app(app: Flask) -> None:
    @app.errorhandler(404)
    @app.errorhandler(NotFound)  # a service found no such record of this vendor's or customer's
    def not_found(_error):
        if g.get("is_portal"):
            return _error_page("Not found", NOT_FOUND), 404
        return render_template(_not_found_page()), 404

    @app.errorhandler(405)
    def method_not_allowed(_error):
        # A form's address opened (a page shown again after a refused save keeps it in the address bar): the page
        # the form is on, the nearest address above it that a browser may open.
        page = _page_above(app, request.path) if request.method == "GET" else None
        if page is not None:
            return redirect(page, code=303)
        return _error_page("Not allowed", "This page cannot be used that way."), 405

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        return _error_page("Form expired", "The form was out of date. Go back, reload the page and try again."), 400

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unavailable(error):
        if not lost_database_connection(error):
            raise error  # a fault of the request's own (a write where only reads may go): a 500, as before
        # The database restarting or out of reach: the pool replaces the dropped connections (pool_pre_ping), so the
        # next request works once it is back. Its transaction was rolled back; the log says why, the page does not.
        # The neutral page: a portal's layout may read the database.
        log.error("database unavailable: %s", type(getattr(error, "orig", error)).__name__, exc_info=error)
        return render_template("errors/error.html", title="Try again in a moment",
                               message="The portal could not reach its database, so this was not done. "
                                       "Try again in a moment."), 503, {"Retry-After": "5"}

    @app.errorhandler(429)
    def too_many_requests(error):
        seconds = _retry_after(error)
        return _error_page("Slow down", f"Too many attempts. {_when_again(seconds)}"), 429, {
            "Retry-After": str(seconds)}


def _retry_after(error) -> int:
    """The window of the count that refused a request (a Flask-Limiter limit's, or the Retry-After of the portal's
    own throttles, such as a login locked for 15 minutes); a minute when neither is known."""
    limit = getattr(getattr(error, "limit", None), "limit", None)
    seconds = limit.get_expiry() if limit is not None else getattr(error, "retry_after", None)
    return seconds if isinstance(seconds, int) else 60


def _when_again(seconds: int) -> str:
    if seconds <= 60:
        return "Wait a minute and try again."
    if seconds < 3600:
        return f"Try again within {-(-seconds // 60)} minutes."
    return "Try again within the hour." if seconds == 3600 else "Try again tomorrow."


def _not_found_page() -> str:
    """The dashboard's navigation for a logged-in vendor user; a customer portal's address keeps the neutral page
    (it names no vendor's dashboard)."""
    if not request.path.lower().startswith("/portal/") and current_user.is_authenticated:
        return "errors/404_vendor.html"
    return "errors/404.html"


def _page_above(app: Flask, path: str) -> str | None:
    """The nearest path above `path` (one segment shorter at a time) that answers GET, on this site."""
    if not path.startswith("/") or path.startswith("//") or "\\" in path:
        return None  # never an address another site could be read from
    adapter = app.url_map.bind("localhost")
    while "/" in path.rstrip("/")[1:]:
        path = path.rstrip("/").rsplit("/", 1)[0]
        for candidate in (path, path + "/"):
            try:
                adapter.match(candidate, method="GET")
            except HTTPException:
                continue
            return candidate
    return None


def lost_database_connection(error) -> bool:
    """The database went away (refused, dropped, restarting), not a statement it refused: SQLite's own errors (a
    read-only connection, a lock held too long) are the request's faults."""
    if isinstance(error, InterfaceError):
        return True
    if not isinstance(error, OperationalError):
        return False
    return error.connection_invalidated or not type(error.orig).__module__.startswith("sqlite3")
