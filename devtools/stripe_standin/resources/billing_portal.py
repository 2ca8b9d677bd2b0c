"""Billing Portal: sessions (`bps_…`, whose `url` is the stand-in's page, pages/billing.py) and configurations
(`bpc_…`). Each account has a default configuration, made when first needed: cancelling (at period end or at
once) and switching to another active recurring price of the subscription's own product. What the page's
buttons do is portal_actions.py.
"""

import time
from urllib.parse import urlsplit

from ..errors import invalid, missing_param, unknown_param
from ..events import changes, emit
from ..export import export, exporter, list_page, snapshot
from ..ids import new_id
from ..params import as_bool, as_list, check_known, merge_metadata
from ..routing import Call, RouteTable

routes = RouteTable()

_FEATURES = {"customer_update", "invoice_history", "payment_method_update", "subscription_cancel",
             "subscription_update", "subscription_pause"}
_CANCEL_MODES = ("at_period_end", "immediately")


@exporter("billing_portal.configuration")
def _export_configuration(account, configuration: dict) -> dict:
    return {k: v for k, v in configuration.items() if not k.startswith("_")}


def _blank_features() -> dict:
    return {
        "customer_update": {"allowed_updates": [], "enabled": False},
        "invoice_history": {"enabled": False},
        "payment_method_update": {"enabled": False},
        "subscription_cancel": {"cancellation_reason": {"enabled": False, "options": []}, "enabled": False,
                                "mode": "at_period_end", "proration_behavior": "none"},
        "subscription_update": {"default_allowed_updates": [], "enabled": False, "products": [],
                                "proration_behavior": "none", "schedule_at_period_end": {"conditions": []}},
    }


def _configuration(account, features: dict, is_default: bool = False) -> dict:
    now = int(time.time())
    return {
        "id": new_id("bpc_", 24),
        "object": "billing_portal.configuration",
        "active": True,
        "application": None,
        "business_profile": {"headline": None, "privacy_policy_url": None, "terms_of_service_url": None},
        "created": now,
        "default_return_url": None,
        "features": features,
        "is_default": is_default,
        "livemode": False,
        "login_page": {"enabled": False, "url": None},
        "metadata": {},
        "name": None,
        "updated": now,
    }


def default_configuration(account) -> dict:
    """The account's default configuration, made on first use (Stripe's exists from the dashboard's first visit).
    `_any_cancel_mode` lets its page offer both "Cancel at period end" and "Cancel now", until an update sets
    `features[subscription_cancel][mode]`."""
    for configuration in account.objects["billing_portal.configuration"].values():
        if configuration["is_default"]:
            return configuration
    features = _blank_features()
    features["subscription_cancel"]["enabled"] = True
    features["subscription_update"].update(enabled=True, default_allowed_updates=["price"])
    configuration = _configuration(account, features, is_default=True)
    configuration["_any_cancel_mode"] = True
    return account.add(configuration)


def _read_products(call: Call, value) -> list[dict]:
    products = []
    for i, spec in enumerate(as_list(value, "features[subscription_update][products]")):
        param = f"features[subscription_update][products][{i}]"
        if not isinstance(spec, dict) or not spec.get("product"):
            raise missing_param(f"{param}[product]")
        product = call.account.get("product", spec["product"], f"{param}[product]")
        prices = as_list(spec.get("prices"), f"{param}[prices]")
        if not prices:
            raise missing_param(f"{param}[prices]")
        for j, price_id in enumerate(prices):
            price = call.account.get("price", price_id, f"{param}[prices][{j}]")
            if price["product"] != product["id"] or price["type"] != "recurring":
                raise invalid(f"The price {price_id} is not a recurring price of {product['id']}.",
                              f"{param}[prices][{j}]")
        products.append({"prices": list(prices), "product": product["id"]})
    return products


def _apply_features(call: Call, configuration: dict, value) -> None:
    if value in (None, ""):
        return
    if not isinstance(value, dict):
        raise invalid("Invalid features: must be an object.", "features")
    features = configuration["features"]
    for name, settings in value.items():
        if name not in _FEATURES:
            raise unknown_param(f"features[{name}]")
        if not isinstance(settings, dict):
            raise invalid(f"Invalid features[{name}]: must be an object.", f"features[{name}]")
        feature = features.setdefault(name, {"enabled": False})
        if "enabled" in settings:
            feature["enabled"] = bool(as_bool(settings["enabled"], f"features[{name}][enabled]"))
        if name == "subscription_cancel" and settings.get("mode"):
            if settings["mode"] not in _CANCEL_MODES:
                raise invalid("Invalid features[subscription_cancel][mode]: must be at_period_end or immediately",
                              "features[subscription_cancel][mode]")
            feature["mode"] = settings["mode"]
            configuration.pop("_any_cancel_mode", None)
        if name == "subscription_update":
            if "products" in settings:
                feature["products"] = _read_products(call, settings["products"])
            if "default_allowed_updates" in settings:
                feature["default_allowed_updates"] = as_list(settings["default_allowed_updates"],
                                                             "features[subscription_update][default_allowed_updates]")
        for plain in ("proration_behavior", "allowed_updates"):
            if plain in settings:
                feature[plain] = settings[plain]


def _apply(call: Call, configuration: dict) -> None:
    params = call.params
    _apply_features(call, configuration, params.get("features"))
    profile = params.get("business_profile")
    if isinstance(profile, dict):
        for name in ("headline", "privacy_policy_url", "terms_of_service_url"):
            if name in profile:
                configuration["business_profile"][name] = profile[name] or None
    if "default_return_url" in params:
        configuration["default_return_url"] = _url(params["default_return_url"], "default_return_url", True)
    if "active" in params:
        configuration["active"] = bool(as_bool(params["active"], "active"))
    if "name" in params:
        configuration["name"] = params["name"] or None
    configuration["metadata"] = merge_metadata(configuration["metadata"], params.get("metadata"))


def _url(value, param: str, optional: bool = False) -> str | None:
    if optional and value in (None, ""):
        return None
    parts = urlsplit(str(value or ""))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("Not a valid URL", param, code="url_invalid")
    return value


_CONFIGURATION_PARAMS = {"features", "business_profile", "default_return_url", "metadata", "login_page", "name"}


@routes.post("/v1/billing_portal/configurations")
def create_configuration(call: Call) -> dict:
    check_known(call.params, _CONFIGURATION_PARAMS)
    if not call.params.get("features"):
        raise missing_param("features")
    configuration = call.account.add(_configuration(call.account, _blank_features()))
    _apply(call, configuration)
    emit(call, "billing_portal.configuration.created", configuration)
    return export(call.account, configuration, call.params.get("expand"))


@routes.post("/v1/billing_portal/configurations/{id}")
def update_configuration(call: Call) -> dict:
    check_known(call.params, _CONFIGURATION_PARAMS | {"active"})
    configuration = call.account.get("billing_portal.configuration", call.match["id"])
    before = snapshot(export(call.account, configuration))  # features change in place
    _apply(call, configuration)
    previous = changes(before, export(call.account, configuration))
    if previous:
        configuration["updated"] = int(time.time())
        emit(call, "billing_portal.configuration.updated", configuration, previous)
    return export(call.account, configuration, call.params.get("expand"))


@routes.get("/v1/billing_portal/configurations/{id}")
def retrieve_configuration(call: Call) -> dict:
    configuration = call.account.get("billing_portal.configuration", call.match["id"])
    return export(call.account, configuration, call.params.get("expand"))


@routes.get("/v1/billing_portal/configurations")
def list_configurations(call: Call) -> dict:
    params = call.params
    check_known(params, {"active", "is_default", "limit", "starting_after", "ending_before"})
    default_configuration(call.account)
    active, is_default = as_bool(params.get("active"), "active"), as_bool(params.get("is_default"), "is_default")
    found = (
        c
        for c in call.account.objects["billing_portal.configuration"].values()
        if (active is None or c["active"] == active) and (is_default is None or c["is_default"] == is_default)
    )
    return list_page(call.account, found, params, "/v1/billing_portal/configurations")


@routes.post("/v1/billing_portal/sessions")
def create_session(call: Call) -> dict:
    params = call.params
    check_known(params, {"customer", "return_url", "configuration", "locale", "on_behalf_of", "flow_data"})
    if params.get("flow_data"):
        raise invalid("The stand-in's Billing Portal has no flows: leave out flow_data.", "flow_data")
    if not params.get("customer"):
        raise missing_param("customer")
    customer = call.account.get("customer", params["customer"], "customer")
    if params.get("configuration"):
        configuration = call.account.get("billing_portal.configuration", params["configuration"], "configuration")
        if not configuration["active"]:
            raise invalid("This configuration is inactive.", "configuration")
    else:
        configuration = default_configuration(call.account)
    return_url = _url(params.get("return_url"), "return_url", optional=True) or configuration["default_return_url"]
    if return_url is None:
        raise missing_param("return_url")
    session_id = new_id("bps_", 24)
    session = {
        "id": session_id,
        "object": "billing_portal.session",
        "configuration": configuration["id"],
        "created": int(time.time()),
        "customer": customer["id"],
        "flow": None,
        "livemode": False,
        "locale": params.get("locale") or None,
        "on_behalf_of": None,
        "return_url": return_url,
        "url": f"{call.core.base_url}/billing/{session_id}",
    }
    call.account.add(session)
    emit(call, "billing_portal.session.created", session)
    return export(call.account, session, params.get("expand"))
