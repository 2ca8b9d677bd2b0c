"""The aiohttp application: authentication by API key, the outage switch, idempotency, and Stripe's error shape."""

import base64
import binascii
import json

from aiohttp import web

from . import pages, resources
from .errors import StripeError, idempotency_mismatch
from .events import API_VERSION
from .ids import mask_key, new_id
from .params import read_params
from .routing import Call, Handler
from .store import AccountData

_NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization header, "
    "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY')."
)
# Answers worth replaying for a repeated idempotency key: success, and a card error (the charge happened).
_REMEMBERED = (200, 402)


def build_app(core) -> web.Application:
    app = web.Application()
    for method, path, handler in resources.routes():
        app.router.add_route(method, path, _endpoint(core, handler))
    app.router.add_route("*", "/v1/{tail:.*}", _endpoint(core, _unrecognised))
    for method, path, page in pages.routes(core):
        app.router.add_route(method, path, page)
    return app


def _answer(body: dict, status: int = 200, request_id: str | None = None, replayed: bool = False) -> web.Response:
    headers = {"Stripe-Version": API_VERSION}
    if request_id:
        headers["Request-Id"] = request_id
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    return web.Response(text=json.dumps(body), status=status, content_type="application/json", headers=headers)


def _endpoint(core, handler: Handler):
    async def respond(request: web.Request) -> web.Response:
        if core.unavailable:
            # Quick 503 that the SDK must not retry: it raises APIError at once, as a caller of a down Stripe sees.
            error = {"error": {"type": "api_error", "message": "Stripe is unavailable (stand-in outage switch)."}}
            return web.Response(
                text=json.dumps(error), status=503, content_type="application/json",
                headers={"Stripe-Should-Retry": "false"},
            )
        request_id = new_id("req_", 14)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        account, fingerprint = None, ""
        try:
            account = _authenticate(core, request)
            params = await read_params(request)
            fingerprint = request.method + " " + request.path + " " + json.dumps(params, sort_keys=True)
            first = account.remembered(key) if key is not None else None
            if first is not None:
                first_fingerprint, status, body = first
                if first_fingerprint != fingerprint:
                    raise idempotency_mismatch(key)
                return _answer(body, status, request_id, replayed=True)
            call = Call(core, account, params, dict(request.match_info), request_id, key)
            status, body = 200, handler(call)
        except StripeError as error:
            status, body = error.status, error.body()
        if key is not None and account is not None and status in _REMEMBERED:
            account.remember(key, fingerprint, status, body)
        if request.method != "GET" and status in _REMEMBERED and account is not None:
            core.touch(account)
        return _answer(body, status, request_id)

    return respond


def _authenticate(core, request: web.Request) -> AccountData:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    key = credentials.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key:
        raise StripeError(401, _NO_KEY)
    account = core.accounts.for_key(key)
    if account is None and core.open_accounts and key.startswith("sk_test_") and len(key) >= len("sk_test_") + 8:
        account = core.accounts.create(f"Test account {key[-4:]}", key)
        core.touch(account)
    if account is None:
        raise StripeError(401, f"Invalid API Key provided: {mask_key(key)}")
    return account


def _unrecognised(call: Call) -> dict:
    raise StripeError(404, f"Unrecognized request URL: /v1/{call.match.get('tail', '')}.")
