"""Events: retrieve, and list with Stripe's filters (the recovery path is `delivery_success=false`)."""

from ..errors import invalid, no_such
from ..export import list_page
from ..params import as_bool, as_list, check_known, created_test
from ..routing import Call, RouteTable

routes = RouteTable()


@routes.get("/v1/events/{id}")
def retrieve(call: Call) -> dict:
    event = call.account.events.get(call.match["id"])
    if event is None:
        raise no_such("event", call.match["id"])
    return event


def _type_test(params: dict):
    """`type` may end in `.*` (`customer.*`); `types[]` lists exact types; neither means every type."""
    if params.get("type") and params.get("types"):
        raise invalid("You may pass either type or types, not both.", "types")
    patterns = as_list(params.get("types"), "types") or ([params["type"]] if params.get("type") else [])
    if not patterns:
        return lambda event_type: True
    exact = {p for p in patterns if not p.endswith("*")}
    prefixes = tuple(p[:-1] for p in patterns if p.endswith("*"))
    return lambda event_type: event_type in exact or (bool(prefixes) and event_type.startswith(prefixes))


@routes.get("/v1/events")
def list_all(call: Call) -> dict:
    params = call.params
    check_known(params, {"type", "types", "delivery_success", "created", "limit", "starting_after", "ending_before"})
    type_ok, created_ok = _type_test(params), created_test(params.get("created"))
    delivered = as_bool(params.get("delivery_success"), "delivery_success")
    found = (
        e
        for e in call.account.events.values()
        if type_ok(e["type"])
        and created_ok(e["created"])
        and (delivered is None or (e["pending_webhooks"] == 0) == delivered)
    )
    return list_page(call.account, found, params, "/v1/events")
