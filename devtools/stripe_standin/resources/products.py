"""Products: create (optionally with a chosen id), retrieve, update, delete, list, search by metadata."""

import time

from ..errors import invalid
from ..events import changes, emit
from ..export import export, list_page
from ..ids import new_id
from ..params import as_bool, check_known, merge_metadata, required
from ..routing import Call, RouteTable
from ..search import search_objects

routes = RouteTable()

_FIELDS = {"name", "description", "active", "metadata", "url", "unit_label", "statement_descriptor", "images"}
_IGNORED = {"tax_code", "shippable", "marketing_features", "package_dimensions", "default_price"}
_SEARCHABLE = frozenset({"name", "active", "description", "created", "url"})


@routes.get("/v1/products/search")
def search(call: Call) -> dict:
    return search_objects(call, "product", _SEARCHABLE)


@routes.post("/v1/products")
def create(call: Call) -> dict:
    params = call.params
    check_known(params, _FIELDS | _IGNORED | {"id"})
    product_id = params.get("id") or new_id("prod_", 14)
    if product_id in call.account.objects["product"]:
        raise invalid(f"Product already exists: {product_id}", "id", code="resource_already_exists")
    now = int(time.time())
    product = {
        "id": product_id,
        "object": "product",
        "active": as_bool(params.get("active"), "active") is not False,
        "created": now,
        "default_price": None,
        "description": params.get("description"),
        "images": params.get("images") or [],
        "livemode": False,
        "marketing_features": [],
        "metadata": merge_metadata({}, params.get("metadata")),
        "name": required(params, "name"),
        "package_dimensions": None,
        "shippable": None,
        "statement_descriptor": params.get("statement_descriptor"),
        "tax_code": None,
        "type": "service",
        "unit_label": params.get("unit_label"),
        "updated": now,
        "url": params.get("url"),
    }
    call.account.add(product)
    emit(call, "product.created", product)
    return export(call.account, product, params.get("expand"))


@routes.get("/v1/products/{id}")
def retrieve(call: Call) -> dict:
    return export(call.account, call.account.get("product", call.match["id"]), call.params.get("expand"))


@routes.post("/v1/products/{id}")
def update(call: Call) -> dict:
    params = call.params
    check_known(params, _FIELDS | _IGNORED)
    product = call.account.get("product", call.match["id"])
    before = dict(product)
    for name in ("name", "description", "url", "unit_label", "statement_descriptor"):
        if name in params:
            product[name] = params[name] or None
    if "active" in params:
        product["active"] = as_bool(params["active"], "active")
    if params.get("default_price"):
        product["default_price"] = call.account.get("price", params["default_price"], "default_price")["id"]
    product["metadata"] = merge_metadata(product["metadata"], params.get("metadata"))
    previous = changes(before, product)
    if previous:
        product["updated"] = int(time.time())
        emit(call, "product.updated", product, previous)
    return export(call.account, product, params.get("expand"))


@routes.delete("/v1/products/{id}")
def delete(call: Call) -> dict:
    product = call.account.get("product", call.match["id"])
    if any(price["product"] == product["id"] for price in call.account.objects["price"].values()):
        raise invalid("This product cannot be deleted because it has one or more user-created prices.")
    emit(call, "product.deleted", product)
    tombstone = {"id": product["id"], "object": "product", "deleted": True}
    call.account.objects["product"][product["id"]] = tombstone
    return tombstone


@routes.get("/v1/products")
def list_all(call: Call) -> dict:
    check_known(call.params, {"active", "ids", "limit", "starting_after", "ending_before", "created", "shippable"})
    active = as_bool(call.params.get("active"), "active")
    ids = call.params.get("ids")
    found = (
        p
        for p in call.account.objects["product"].values()
        if not p.get("deleted") and (active is None or p["active"] == active) and (not ids or p["id"] in ids)
    )
    return list_page(call.account, found, call.params, "/v1/products")
