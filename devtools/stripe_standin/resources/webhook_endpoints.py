"""Webhook endpoints: Stripe's API for them; the signing secret is shown once, in the create answer."""

import time

from ..errors import invalid
from ..export import export, exporter, list_page
from ..ids import new_id
from ..params import as_bool, as_list, check_known, merge_metadata, required
from ..routing import Call, RouteTable

routes = RouteTable()


@exporter("webhook_endpoint")
def _export_endpoint(account, endpoint: dict) -> dict:
    return {k: v for k, v in endpoint.items() if k != "secret"}


def add_endpoint(call: Call, url: str, enabled_events: list[str], secret: str | None = None, **extra) -> dict:
    """Shared by the API and `StandIn.register_webhook` (which chooses the secret)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise invalid(f"Invalid URL: {url}", "url", code="url_invalid")
    if not enabled_events or not all(isinstance(e, str) for e in enabled_events):
        raise invalid("enabled_events must list event types or '*'.", "enabled_events")
    endpoint = {
        "id": new_id("we_", 24),
        "object": "webhook_endpoint",
        "api_version": extra.get("api_version"),
        "application": None,
        "created": int(time.time()),
        "description": extra.get("description"),
        "enabled_events": list(enabled_events),
        "livemode": False,
        "metadata": merge_metadata({}, extra.get("metadata")),
        "secret": secret or new_id("whsec_", 32),
        "status": "enabled",
        "url": url,
    }
    call.core.touch(call.account)
    return call.account.add(endpoint)


@routes.post("/v1/webhook_endpoints")
def create(call: Call) -> dict:
    params = call.params
    check_known(params, {"url", "enabled_events", "description", "metadata", "api_version", "connect"})
    events = as_list(required(params, "enabled_events"), "enabled_events")
    extra = {name: params.get(name) for name in ("description", "metadata", "api_version")}
    endpoint = add_endpoint(call, required(params, "url"), events, **extra)
    return {**export(call.account, endpoint), "secret": endpoint["secret"]}


@routes.get("/v1/webhook_endpoints/{id}")
def retrieve(call: Call) -> dict:
    return export(call.account, call.account.get("webhook_endpoint", call.match["id"]))


@routes.post("/v1/webhook_endpoints/{id}")
def update(call: Call) -> dict:
    params = call.params
    check_known(params, {"url", "enabled_events", "description", "metadata", "disabled"})
    endpoint = call.account.get("webhook_endpoint", call.match["id"])
    if params.get("url"):
        endpoint["url"] = params["url"]
    if "enabled_events" in params:
        endpoint["enabled_events"] = as_list(params["enabled_events"], "enabled_events")
    if "description" in params:
        endpoint["description"] = params["description"] or None
    if "disabled" in params:
        endpoint["status"] = "disabled" if as_bool(params["disabled"], "disabled") else "enabled"
    endpoint["metadata"] = merge_metadata(endpoint["metadata"], params.get("metadata"))
    return export(call.account, endpoint)


@routes.delete("/v1/webhook_endpoints/{id}")
def delete(call: Call) -> dict:
    endpoint = call.account.get("webhook_endpoint", call.match["id"])
    del call.account.objects["webhook_endpoint"][endpoint["id"]]
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


@routes.get("/v1/webhook_endpoints")
def list_all(call: Call) -> dict:
    check_known(call.params, {"limit", "starting_after", "ending_before"})
    return list_page(call.account, call.account.objects["webhook_endpoint"].values(), call.params,
                     "/v1/webhook_endpoints")
