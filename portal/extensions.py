"""Flask extensions, created once here and bound to the app in `create_app`."""

from flask import current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect


class PortalLimiter(Limiter):
    """Flask-Limiter, whose checks run only for views that carry a limit.

    The limiter looks up and resolves limits on every request, limited or not (a tenth of a millisecond, about
    what a whole bare Flask request costs). Every view decorated with `limiter.limit` is marked `rate_limited`
    here, and a request to any other view skips the limiter. There are no default, application-wide or blueprint
    limits (a test checks), which this filter would skip.
    """

    def limit(self, *args, **kwargs):
        return _marking(super().limit(*args, **kwargs))

    def shared_limit(self, *args, **kwargs):
        return _marking(super().shared_limit(*args, **kwargs))


def _marking(decorator):
    """The limiter's decorator, for views only, marking the view it limits."""

    def mark(view):
        limited = decorator(view)
        limited.rate_limited = True
        return limited

    return mark


def _no_limit_applies() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return not getattr(view, "rate_limited", False)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer made once per secret key, not per request."""

    _serializer: tuple = ((), None)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        made_for, serializer = self._serializer
        if made_for != keys:
            serializer = super().get_signing_serializer(app)
            self._serializer = (keys, serializer)
        return serializer


csrf = CSRFProtect()
login_manager = LoginManager()
limiter = PortalLimiter(get_remote_address)
limiter.request_filter(_no_limit_applies)
