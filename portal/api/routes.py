"""The Web API's wiring: its own application (portal/api/application.py) behind path normalisation, the method
modules, JSON for every error and the per-token rate limit."""

import functools
import logging
import math
import os
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import HTTPException

# Importing a method module registers its methods.
from portal.api import activation, customer_methods, data_methods, key_methods, pages, product_methods  # noqa: F401
from portal.api.answers import refusal
from portal.api.application import create_api_app
from portal.api.calls import METHODS, blueprint
from portal.api.paths import ApiDispatcher
from portal.errors import lost_database_connection
from portal.extensions import count_key, limiter
from portal.security import token_digest

log = logging.getLogger(__name__)
ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _rate_key() -> str:
    """Calls are counted per token (a digest, never the token itself), else per address."""
    token = next((value for name, value in request.values.items() if name.lower() == "token"), "")
    return "api:" + (token_digest(token)[:32] if token else request.remote_addr or "")


DEFAULT_RATE_LIMIT = "600 per minute"


@functools.cache
def _limits(text: str) -> tuple[RateLimitItem, ...]:
    """API_RATE_LIMIT's limits (e.g. `600 per minute; 20000 per day`), the shortest window first."""
    return tuple(sorted(parse_many(text)))


# Registered once, at import: the blueprint object outlives each app made from it.
@blueprint.before_request
def _count_call():
    """One count per token for all its methods, in the limiter's storage (Redis in production), with the `limits`
    strategy Flask-Limiter counts with and under the key it used (as portal/throttle.py counts login failures);
    each limit of API_RATE_LIMIT in turn, up to the first one refused, as Flask-Limiter did. Through Flask-Limiter's
    decorator, resolving which limits apply to the request cost a tenth of an activation's instructions
    (bench/RESULTS.md, 2026-12-02 evening)."""
    if not limiter.enabled:
        return None
    counted = count_key(_rate_key(), "api")
    for limit in _limits(current_app.config["API_RATE_LIMIT"]):
        if not limiter.limiter.hit(limit, *counted):
            reset_at, _remaining = limiter.limiter.get_window_stats(limit, *counted)
            answer, status = refusal("Too many calls with this access token: wait a moment and call again.", 429)
            return answer, status, {"Retry-After": str(max(1, math.ceil(reset_at - time.time())))}
    return None


@blueprint.route("", defaults={"rest": ""}, methods=ANY_METHOD)
@blueprint.route("/<path:rest>", methods=ANY_METHOD)
def unknown(rest: str):
    if rest in METHODS:
        return _wrong_method(rest)
    if not rest:  # the base address the clients are given, opened in a browser
        return refusal("This is the Web API's base address: call a method under it, such as key/Activate "
                       "(see docs/api.md).", 404)
    return refusal(f"There is no Web API method {rest}.", 404)


def _wrong_method(method: str):
    answer, status = refusal(f"{method} is called with POST (or GET).", 405)
    return answer, status, {"Allow": "GET, POST"}


def http_error(error: HTTPException):
    method = request.path.removeprefix("/api/")
    if error.code == 405 and method in METHODS:  # a method routing refuses before any view (TRACE, PROPFIND)
        return _wrong_method(method)
    return refusal(error.description or error.name, error.code or 500)


def server_error(error: Exception):
    if lost_database_connection(error):  # restarting or out of reach: nothing was done, the client may call again
        log.error("Web API call %s: database unavailable", request.path, exc_info=error)
        answer, status = refusal("The server cannot reach its database just now; nothing was done. Try again in a "
                                 "moment.", 503)
        return answer, status, {"Retry-After": "5"}
    log.exception("Web API call %s failed", request.path, exc_info=error)
    return refusal("The server could not answer this call; try again.", 500)


def init_app(app: Flask) -> None:
    app.config.setdefault("API_RATE_LIMIT", os.environ.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT)
    try:
        _limits(app.config["API_RATE_LIMIT"])
    except ValueError as error:  # at start-up, not as a 500 on every call
        raise RuntimeError(f"API_RATE_LIMIT is not a rate limit like '600 per minute': {error}") from error
    api = create_api_app(app, blueprint)
    # The application's, not the blueprint's: also for what routing refuses before a view is chosen (TRACE, PROPFIND).
    api.register_error_handler(HTTPException, http_error)
    api.register_error_handler(Exception, server_error)
    pages.init_app(app)
    app.wsgi_app = ApiDispatcher(app.wsgi_app, api.wsgi_app)
