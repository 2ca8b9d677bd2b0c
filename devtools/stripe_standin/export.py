"""From stored objects to answers: per-kind exporters, `expand[]`, list pages and search results.

Stored objects are never handed out for mutation: an exporter or an expansion copies only the dicts it
changes, so an answer costs little more than its JSON encoding.
"""

import json
from collections.abc import Callable, Iterable

from .errors import invalid
from .params import as_int
from .store import AccountData

Exporter = Callable[[AccountData, dict], dict]
EXPORTERS: dict[str, Exporter] = {}


def exporter(kind: str):
    """Registers how a kind's stored dict becomes its API shape (e.g. a subscription embeds its prices)."""

    def register(function: Exporter) -> Exporter:
        EXPORTERS[kind] = function
        return function

    return register


def export(account: AccountData, obj: dict, expand=None) -> dict:
    function = EXPORTERS.get(obj.get("object"))
    out = function(account, obj) if function and not obj.get("deleted") else obj
    for path in expand or ():
        if not isinstance(path, str) or path.count(".") > 3:
            raise invalid(f"Invalid expand: {path!r}", "expand")
        out = _expand(account, out, path.split("."), path)
    return out


def snapshot(obj: dict) -> dict:
    """A deep copy for an event, so later changes to the object never rewrite history."""
    return json.loads(json.dumps(obj))


def _resolve(account: AccountData, value):
    if isinstance(value, str):
        from .cards import payment_method  # cards import nothing of ours back; late import keeps this leaf-free

        found = account.find(value) if not value.startswith("pm_") else payment_method(value)
        if found is not None:
            return export(account, found)
    return value


def _expand(account: AccountData, value, path: list[str], whole: str):
    if isinstance(value, list):
        return [_expand(account, item, path, whole) for item in value]
    if not isinstance(value, dict):
        return value
    head, rest = path[0], path[1:]
    if head not in value:
        raise invalid(f"This property cannot be expanded ({whole}).", "expand")
    out = dict(value)
    child = _resolve(account, value[head])
    out[head] = _expand(account, child, rest, whole) if rest else child
    return out


def list_page(account: AccountData, objects: Iterable[dict], params: dict, url: str) -> dict:
    """A `list` object, newest first, with Stripe's `limit`, `starting_after` and `ending_before`."""
    newest_first = list(objects)
    newest_first.reverse()
    limit = as_int(params.get("limit"), "limit") or 10
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", "limit")
    after, before = params.get("starting_after"), params.get("ending_before")
    ids = [obj["id"] for obj in newest_first]
    if after:
        if after not in ids:
            raise invalid(f"Invalid starting_after id: {after}", "starting_after")
        newest_first = newest_first[ids.index(after) + 1 :]
        page = newest_first[:limit]
    elif before:
        if before not in ids:
            raise invalid(f"Invalid ending_before id: {before}", "ending_before")
        newest_first = newest_first[: ids.index(before)]
        page = newest_first[-limit:]
    else:
        page = newest_first[:limit]
    expand = _item_expansions(params)
    return {
        "object": "list",
        "data": [export(account, obj, expand) for obj in page],
        "has_more": len(newest_first) > len(page),
        "url": url,
    }


def search_page(account: AccountData, objects: Iterable[dict], params: dict, url: str) -> dict:
    """A `search_result` object; `page` is the offset of the next page, opaque to the caller as in Stripe."""
    found = list(objects)
    found.reverse()
    limit = as_int(params.get("limit"), "limit") or 10
    start = as_int(params.get("page"), "page") or 0
    page = found[start : start + limit]
    has_more = start + limit < len(found)
    expand = _item_expansions(params)
    return {
        "object": "search_result",
        "data": [export(account, obj, expand) for obj in page],
        "has_more": has_more,
        "next_page": str(start + limit) if has_more else None,
        "url": url,
        "total_count": len(found),
    }


def _item_expansions(params: dict) -> list[str]:
    """In a list, `expand[]=data.customer` expands each item's customer."""
    paths = params.get("expand") or []
    if not isinstance(paths, list):
        raise invalid("Invalid expand: must be an array.", "expand")
    for path in paths:
        if not isinstance(path, str) or not path.startswith("data."):
            raise invalid(f"Invalid expand for a list: {path!r} (use data.<field>)", "expand")
    return [path[len("data.") :] for path in paths]
