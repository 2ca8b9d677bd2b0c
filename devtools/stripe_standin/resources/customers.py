"""Customers: create, retrieve, update (metadata merges), delete, list by email, search by metadata or email."""

import time

from ..cards import check_payment_method
from ..events import emit, updated
from ..export import export, exporter, list_page
from ..ids import new_id
from ..params import check_known, merge_metadata
from ..routing import Call, RouteTable
from ..search import search_objects
from . import subscriptions

routes = RouteTable()

_FIELDS = {"email", "name", "description", "phone", "metadata", "invoice_settings", "address", "shipping"}
_IGNORED = {"preferred_locales", "tax_exempt", "tax", "test_clock", "balance", "source", "coupon", "promotion_code"}
_SEARCHABLE = frozenset({"email", "name", "phone", "created"})


@exporter("customer")
def _export_customer(account, customer: dict) -> dict:
    # `_payment_methods` is the stand-in's record of attached cards; Stripe lists those elsewhere.
    return {k: v for k, v in customer.items() if not k.startswith("_")}


def _invoice_settings(value, current: dict) -> dict:
    settings = dict(current)
    if isinstance(value, dict) and "default_payment_method" in value:
        pm = value["default_payment_method"] or None
        if pm is not None:
            check_payment_method(pm, "invoice_settings[default_payment_method]")
        settings["default_payment_method"] = pm
    return settings


@routes.get("/v1/customers/search")
def search(call: Call) -> dict:
    return search_objects(call, "customer", _SEARCHABLE)


@routes.post("/v1/customers")
def create(call: Call) -> dict:
    params = call.params
    check_known(params, _FIELDS | _IGNORED | {"payment_method"})
    attached = []
    if params.get("payment_method"):
        attached.append(check_payment_method(params["payment_method"], "payment_method"))
    customer = {
        "id": new_id("cus_", 14),
        "object": "customer",
        "address": params.get("address"),
        "balance": 0,
        "created": int(time.time()),
        "currency": None,
        "default_source": None,
        "delinquent": False,
        "description": params.get("description"),
        "email": params.get("email"),
        "invoice_prefix": new_id("", 8).upper(),
        "invoice_settings": _invoice_settings(
            params.get("invoice_settings"),
            {"custom_fields": None, "default_payment_method": None, "footer": None, "rendering_options": None},
        ),
        "livemode": False,
        "metadata": merge_metadata({}, params.get("metadata")),
        "name": params.get("name"),
        "next_invoice_sequence": 1,
        "phone": params.get("phone"),
        "preferred_locales": [],
        "shipping": params.get("shipping"),
        "tax_exempt": "none",
        "test_clock": None,
        "_payment_methods": attached,
    }
    call.account.add(customer)
    emit(call, "customer.created", customer)
    return export(call.account, customer, params.get("expand"))


@routes.get("/v1/customers/{id}")
def retrieve(call: Call) -> dict:
    customer = call.account.objects["customer"].get(call.match["id"])
    if customer is None:
        call.account.get("customer", call.match["id"])  # raises Stripe's 404
    return export(call.account, customer, call.params.get("expand"))


@routes.post("/v1/customers/{id}")
def update(call: Call) -> dict:
    params = call.params
    check_known(params, _FIELDS | _IGNORED)
    customer = call.account.get("customer", call.match["id"])
    before = export(call.account, customer)
    for name in ("email", "name", "description", "phone", "address", "shipping"):
        if name in params:
            customer[name] = params[name] or None
    customer["metadata"] = merge_metadata(customer["metadata"], params.get("metadata"))
    if "invoice_settings" in params:
        customer["invoice_settings"] = _invoice_settings(params["invoice_settings"], customer["invoice_settings"])
        pm = customer["invoice_settings"]["default_payment_method"]
        if pm and pm not in customer["_payment_methods"]:
            customer["_payment_methods"] = [*customer["_payment_methods"], pm]
    return updated(call, "customer.updated", customer, before, params.get("expand"))


@routes.delete("/v1/customers/{id}")
def delete(call: Call) -> dict:
    customer = call.account.get("customer", call.match["id"])
    # As Stripe does: deleting a customer cancels its subscriptions at once.
    for subscription in list(call.account.objects["subscription"].values()):
        if subscription["customer"] == customer["id"] and subscription["status"] not in subscriptions.ENDED:
            subscriptions.end(call, subscription, {})
    emit(call, "customer.deleted", customer)
    tombstone = {"id": customer["id"], "object": "customer", "deleted": True}
    call.account.objects["customer"][customer["id"]] = tombstone
    return tombstone


@routes.get("/v1/customers")
def list_all(call: Call) -> dict:
    check_known(call.params, {"email", "limit", "starting_after", "ending_before", "created", "test_clock"})
    email = call.params.get("email")
    found = (
        c
        for c in call.account.objects["customer"].values()
        if not c.get("deleted") and (email is None or c["email"] == email)
    )
    return list_page(call.account, found, call.params, "/v1/customers")

