"""Facts about the current request that routes hand to services as plain values, and the request's session."""

from flask import current_app, request, session

from portal.models import ID_MAX


def client_ip() -> str:
    return (request.remote_addr or "")[:64]


def user_agent() -> str:
    return (request.user_agent.string or "")[:512]


def id_arg(name: str) -> int | None:
    """A query-string id, or None if it is missing, not a number or beyond any id."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= ID_MAX else None


def renew_csrf_token() -> None:
    """A new login gets a CSRF token of its own: Flask-WTF makes one afresh when the session holds none."""
    session.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
