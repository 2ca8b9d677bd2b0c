"""Flask extensions, created once here and bound to the app in `create_app`."""

from flask import current_app
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from portal.web import requester

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(requester)  # per IPv4 address or IPv6 /64


def count_key(*identifiers: str) -> tuple[str, ...]:
    """The identifiers of a count kept with `limiter.limiter` directly, under RATELIMIT_KEY_PREFIX as Flask-Limiter
    keeps its own counts, so that portals sharing one Redis keep theirs apart."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return (prefix, *identifiers) if prefix else identifiers
