"""Prices: recurring or one-time, with `product` or `product_data`; list by product, search by product or metadata."""

import time
from dataclasses import replace

from ..errors import invalid
from ..events import changes, emit
from ..export import export, list_page
from ..ids import new_id
from ..params import as_bool, as_int, check_known, merge_metadata, required
from ..routing import Call, RouteTable
from ..search import search_objects
from . import products

routes = RouteTable()

INTERVALS = ("day", "week", "month", "year")
_IGNORED = {"tax_behavior", "billing_scheme", "transfer_lookup_key", "currency_options", "unit_amount_decimal"}
_SEARCHABLE = frozenset({"active", "currency", "lookup_key", "product", "type", "created"})


def _recurring(value) -> dict | None:
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise invalid("Invalid recurring: must be an object.", "recurring")
    interval = value.get("interval")
    if interval not in INTERVALS:
        raise invalid("Invalid recurring[interval]: must be one of day, week, month, or year", "recurring[interval]")
    count = as_int(value.get("interval_count"), "recurring[interval_count]") or 1
    if count < 1:
        raise invalid("Invalid recurring[interval_count]: must be at least 1", "recurring[interval_count]")
    return {
        "interval": interval,
        "interval_count": count,
        "meter": None,
        "trial_period_days": as_int(value.get("trial_period_days"), "recurring[trial_period_days]"),
        "usage_type": value.get("usage_type", "licensed"),
    }


@routes.get("/v1/prices/search")
def search(call: Call) -> dict:
    return search_objects(call, "price", _SEARCHABLE)


@routes.post("/v1/prices")
def create(call: Call) -> dict:
    params = call.params
    check_known(params, {"product", "product_data", "unit_amount", "currency", "recurring", "nickname", "metadata",
                         "active", "lookup_key"} | _IGNORED)
    if params.get("product_data"):
        data = params["product_data"]
        product_params = {"name": data.get("name"), "metadata": data.get("metadata")}
        product_id = products.create(replace(call, params=product_params, match={}))["id"]
    else:
        product_id = call.account.get("product", required(params, "product"), "product")["id"]
    unit_amount = as_int(required(params, "unit_amount"), "unit_amount")
    if unit_amount < 0:
        raise invalid("Invalid unit_amount: must be at least 0", "unit_amount")
    recurring = _recurring(params.get("recurring"))
    price = {
        "id": new_id("price_", 24),
        "object": "price",
        "active": as_bool(params.get("active"), "active") is not False,
        "billing_scheme": "per_unit",
        "created": int(time.time()),
        "currency": str(required(params, "currency")).lower(),
        "custom_unit_amount": None,
        "livemode": False,
        "lookup_key": params.get("lookup_key"),
        "metadata": merge_metadata({}, params.get("metadata")),
        "nickname": params.get("nickname"),
        "product": product_id,
        "recurring": recurring,
        "tax_behavior": "unspecified",
        "tiers_mode": None,
        "transform_quantity": None,
        "type": "recurring" if recurring else "one_time",
        "unit_amount": unit_amount,
        "unit_amount_decimal": str(unit_amount),
    }
    call.account.add(price)
    emit(call, "price.created", price)
    return export(call.account, price, params.get("expand"))


@routes.get("/v1/prices/{id}")
def retrieve(call: Call) -> dict:
    return export(call.account, call.account.get("price", call.match["id"]), call.params.get("expand"))


@routes.post("/v1/prices/{id}")
def update(call: Call) -> dict:
    params = call.params
    check_known(params, {"metadata", "nickname", "active", "lookup_key", "tax_behavior", "transfer_lookup_key"})
    price = call.account.get("price", call.match["id"])
    before = dict(price)
    for name in ("nickname", "lookup_key"):
        if name in params:
            price[name] = params[name] or None
    if "active" in params:
        price["active"] = as_bool(params["active"], "active")
    price["metadata"] = merge_metadata(price["metadata"], params.get("metadata"))
    previous = changes(before, price)
    if previous:
        emit(call, "price.updated", price, previous)
    return export(call.account, price, params.get("expand"))


@routes.get("/v1/prices")
def list_all(call: Call) -> dict:
    check_known(call.params, {"product", "active", "type", "currency", "recurring", "lookup_keys", "limit",
                              "starting_after", "ending_before", "created"})
    product = call.params.get("product")
    active = as_bool(call.params.get("active"), "active")
    kind, currency = call.params.get("type"), call.params.get("currency")
    found = (
        p
        for p in call.account.objects["price"].values()
        if (product is None or p["product"] == product)
        and (active is None or p["active"] == active)
        and (kind is None or p["type"] == kind)
        and (currency is None or p["currency"] == currency)
    )
    return list_page(call.account, found, call.params, "/v1/prices")
