"""Flask extensions, created once here and bound to the app in `create_app`."""

import time

from flask import current_app, session
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect, generate_csrf
from itsdangerous import BadSignature


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, with its signing serializer made once per secret key, not per request, and
    each cookie's signature checked once per process.

    A browser sends the same cookie with every request until the session changes. Checking it (base64, an HMAC
    and zlib) cost more than the rest of opening the session, so a cookie once verified is remembered with its
    contents (as JSON, loaded afresh into each request's session) and the time it was signed, whose age is still
    checked every time. Bounded, per process, per secret key; any other cookie is checked as usual.
    """

    _serializer: tuple = ((), None)
    VERIFIED_SIZE = 4096
    _verified: dict[tuple, tuple[str, float]] = {}

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        cookie = request.cookies.get(self.get_cookie_name(app))
        if serializer is None or not cookie:
            return super().open_session(app, request)
        max_age = app.permanent_session_lifetime.total_seconds()
        key = (self._serializer[0], cookie)
        known = self._verified.get(key)
        if known is not None and time.time() - known[1] <= max_age:
            return self.session_class(serializer.serializer.loads(known[0]))
        try:
            data, signed_at = serializer.loads(cookie, max_age=int(max_age), return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if len(self._verified) >= self.VERIFIED_SIZE:
            self._verified.clear()
        self._verified[key] = (serializer.serializer.dumps(data), signed_at.timestamp())
        return self.session_class(data)

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        made_for, serializer = self._serializer
        if made_for != keys:
            serializer = super().get_signing_serializer(app)
            self._serializer = (keys, serializer)
        return serializer


class CsrfTokens:
    """The `csrf_token()` of the templates: Flask-WTF's signed token, reused for up to a minute per session.

    Flask-WTF signs the session's raw token with a timestamp on every request that shows a form or the htmx
    headers (an HMAC and a compression, a twentieth of a millisecond). A token signed within the last
    `REUSE_SECONDS` is as good: it is checked against the same raw token, and with a WTF_CSRF_TIME_LIMIT set
    it stays valid for that limit less at most a minute (this app sets none: a token lives as long as its
    session). Kept per process, bounded, per signing key.
    """

    REUSE_SECONDS = 60
    SIZE = 4096

    def __init__(self):
        self._signed: dict[tuple, tuple[str, float]] = {}

    def __call__(self) -> str:
        raw = session.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
        if raw is None:  # the first form of a session: Flask-WTF makes the raw token and stores it
            return generate_csrf()
        key = (current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw)
        now = time.monotonic()
        cached = self._signed.get(key)
        if cached is not None and now - cached[1] < self.REUSE_SECONDS:
            return cached[0]
        token = generate_csrf()
        if len(self._signed) >= self.SIZE:
            self._signed.clear()
        self._signed[key] = (token, now)
        return token


csrf = CSRFProtect()
csrf_token = CsrfTokens()
login_manager = LoginManager()
limiter = Limiter(get_remote_address)
