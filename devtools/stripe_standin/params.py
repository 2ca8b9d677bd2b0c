"""Request parameters: decoding Stripe's bracketed form encoding (localstripe's decoder) and typed reads.

The SDK sends `metadata[k]=v`, `items[0][price]=p` and `expand[0]=customer`; localstripe's `unflatten_data`
turns those into nested dicts and lists, so the stand-in reuses it rather than writing a second decoder.
Every value arrives as a string, so the readers below convert and answer Stripe's 400s for bad values.
"""

import json
import warnings

from aiohttp import web

with warnings.catch_warnings():
    # Importing localstripe.server also builds localstripe's own app, whose plain-function handlers make
    # aiohttp warn; the stand-in never serves that app, it only borrows the decoder.
    warnings.simplefilter("ignore", DeprecationWarning)
    from localstripe.server import unflatten_data

from .errors import invalid, missing_param, unknown_param

# Parameters every request may carry that no handler needs to know about.
_UNIVERSAL = frozenset({"expand"})


async def read_params(request: web.Request) -> dict:
    """The request's parameters as nested data: the query for GET/DELETE, the form (or JSON) body for POST."""
    if request.method != "POST":
        return unflatten_data(request.query)
    if request.content_type == "application/json":
        try:
            return await request.json() or {}
        except json.JSONDecodeError as error:
            raise invalid("Invalid JSON body.") from error
    return unflatten_data(await request.post())


def check_known(params: dict, allowed: frozenset[str] | set[str]) -> None:
    """Stripe refuses a parameter it does not know; the stand-in does too, so a typo fails here as it would there."""
    for name in params:
        if name not in allowed and name not in _UNIVERSAL:
            raise unknown_param(name)


def required(params: dict, name: str):
    value = params.get(name)
    if value is None or value == "":
        raise missing_param(name)
    return value


def as_int(value, param: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise invalid(f"Invalid integer: {value}", param) from error


def as_bool(value, param: str) -> bool | None:
    if value is None or value == "" or isinstance(value, bool):
        return value if isinstance(value, bool) else None
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise invalid(f"Invalid boolean: {value}", param)


def as_list(value, param: str) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and not value:
        return []
    raise invalid(f"Invalid array: {param}", param)


def merge_metadata(current: dict, update) -> dict:
    """Stripe's metadata rule: keys merge, a key set to "" is removed, and `metadata=""` clears them all."""
    if update is None:
        return current
    if update == "":
        return {}
    if not isinstance(update, dict):
        raise invalid("Invalid metadata: must be an object.", "metadata")
    merged = dict(current)
    for key, value in update.items():
        if value == "" or value is None:
            merged.pop(key, None)
        else:
            merged[key] = str(value)
    return merged


_BOUNDS = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}


def created_test(value):
    """Stripe's `created` filter of a list (an exact time, or `created[gt|gte|lt|lte]`), as a test of a `created`."""
    if value is None:
        return lambda created: True
    if not isinstance(value, dict):
        exact = as_int(value, "created")
        return lambda created: created == exact
    bounds = [(_BOUNDS[op], as_int(limit, f"created[{op}]")) for op, limit in value.items() if op in _BOUNDS]
    return lambda created: all(compare(created, limit) for compare, limit in bounds)
