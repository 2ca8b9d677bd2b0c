"""Absolute links for mail and for pages that show a link to copy."""

from flask import current_app, url_for
from werkzeug.routing import IntegerConverter

from portal.models import ID_MAX


def absolute_url(endpoint: str, **values) -> str:
    base = current_app.config["PORTAL_BASE_URL"]
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def url_outside_request(endpoint: str, **values) -> str:
    """An absolute link built where no request is (a job, a command): on PORTAL_BASE_URL, else on localhost."""
    base = current_app.config["PORTAL_BASE_URL"] or "http://localhost"
    with current_app.test_request_context(base_url=base):
        return absolute_url(endpoint, **values)


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: no scheme, no host, no protocol-relative `//`, no backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    return "\\" not in target and not any(ord(ch) < 32 for ch in target)


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` in a route: a number beyond any id is a 404 instead of a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)
