"""Flask extensions, created once here and bound to the app in `create_app`."""

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(get_remote_address)


def count_key(*identifiers: str) -> tuple[str, ...]:
    """The identifiers of a count kept with `limiter.limiter` directly, under RATELIMIT_KEY_PREFIX as Flask-Limiter
    keeps its own counts, so that portals sharing one Redis keep theirs apart."""
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return (prefix, *identifiers) if prefix else identifiers
