"""Facts about the current request that routes hand to services as plain values, and the request's session."""

import ipaddress

from flask import current_app, request, session

from portal.models import ID_MAX


def client_ip() -> str:
    return (request.remote_addr or "")[:64]


def requester() -> str:
    """Who asks, as rate limits count them: the client's IPv4 address, or its IPv6 /64 (the share of one home or
    server, whose every address is its own: counted one by one, a single machine could ask from millions)."""
    address = client_ip()
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return str(ipaddress.ip_network(f"{parsed}/64", strict=False))


def user_agent() -> str:
    return (request.user_agent.string or "")[:512]


def id_arg(name: str) -> int | None:
    """A query-string id, or None if it is missing, not a number or beyond any id."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= ID_MAX else None


def renew_csrf_token() -> None:
    """A new login gets a CSRF token of its own: Flask-WTF makes one afresh when the session holds none."""
    session.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
