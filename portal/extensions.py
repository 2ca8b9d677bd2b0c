"""Flask extensions, created once here and bound to the app in `create_app`."""

import time

from flask import current_app, session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect, generate_csrf


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
