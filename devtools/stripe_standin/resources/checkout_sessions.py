"""Checkout Sessions, subscription mode: create, retrieve, list, expire, and their line items.

A session's `url` is the stand-in's own page (pages/checkout.py); paying there is checkout.py. What the session
will subscribe to is kept in private fields (`_line_items`, `_subscription_data`) that answers leave out, as
Stripe shows line items only through `expand[]=line_items` or `/line_items`.
"""

import time
from urllib.parse import urlsplit

from .. import checkout
from ..billing import DAY
from ..errors import invalid, missing_param, unknown_param
from ..export import export, exporter, list_page
from ..ids import new_id
from ..params import as_bool, as_int, as_list, check_known, created_test, merge_metadata, required
from ..routing import Call, RouteTable

routes = RouteTable()

_IGNORED = {"allow_promotion_codes", "billing_address_collection", "payment_method_types", "locale",
            "customer_update", "tax_id_collection", "automatic_tax", "consent_collection", "payment_method_collection",
            "custom_text", "custom_fields", "phone_number_collection", "submit_type", "saved_payment_method_options",
            "discounts", "customer_creation", "invoice_creation", "payment_method_configuration", "currency",
            "adaptive_pricing", "payment_method_options"}
_KNOWN = {"mode", "customer", "customer_email", "line_items", "subscription_data", "success_url", "cancel_url",
          "client_reference_id", "metadata", "expires_at", "ui_mode"} | _IGNORED
_SUBSCRIPTION_DATA = {"metadata", "trial_period_days", "trial_end", "description", "default_tax_rates",
                      "proration_behavior", "billing_cycle_anchor", "trial_settings", "application_fee_percent",
                      "on_behalf_of", "transfer_data", "invoice_settings", "billing_mode"}
_LINE_ITEM = {"price", "quantity", "adjustable_quantity", "tax_rates", "dynamic_tax_rates"}


@exporter("checkout.session")
def _export_session(account, session: dict) -> dict:
    return {k: v for k, v in session.items() if not k.startswith("_")}


@exporter("item")
def _export_line_item(account, item: dict) -> dict:
    return {**item, "price": account.objects["price"][item["price"]]}


def _url(params: dict, name: str) -> str:
    value = required(params, name)
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("Not a valid URL", name, code="url_invalid")
    return value


def _line_items(call: Call, value) -> list[dict]:
    specs = as_list(value, "line_items")
    if not specs:
        raise missing_param("line_items")
    lines = []
    for index, spec in enumerate(specs):
        param = f"line_items[{index}]"
        if not isinstance(spec, dict):
            raise invalid(f"Invalid {param}", param)
        if "price_data" in spec:
            raise invalid("The stand-in takes line_items[][price] only: create the price first.",
                          f"{param}[price_data]")
        for name in spec:
            if name not in _LINE_ITEM:
                raise unknown_param(f"{param}[{name}]")
        if not spec.get("price"):
            raise missing_param(f"{param}[price]")
        price = call.account.get("price", spec["price"], f"{param}[price]")
        if price["type"] != "recurring":
            raise invalid("The stand-in's subscription Checkout takes recurring prices only.", f"{param}[price]")
        if not price["active"]:
            raise invalid("The price specified is inactive. This field only accepts active prices.", f"{param}[price]")
        quantity = as_int(spec.get("quantity"), f"{param}[quantity]") or 1
        if quantity < 1:
            raise invalid("Invalid quantity: must be at least 1", f"{param}[quantity]")
        product = call.account.objects["product"].get(price["product"], {})
        amount = price["unit_amount"] * quantity
        lines.append({"id": new_id("li_", 24), "object": "item", "amount_discount": 0, "amount_subtotal": amount,
                      "amount_tax": 0, "amount_total": amount, "currency": price["currency"],
                      "description": product.get("name"), "price": price["id"], "quantity": quantity})
    if len({line["currency"] for line in lines}) > 1:
        raise invalid("All line items must share one currency.", "line_items")
    return lines


def _subscription_data(value, now: int) -> dict:
    if value in (None, ""):
        return {"metadata": {}}
    if not isinstance(value, dict):
        raise invalid("Invalid subscription_data: must be an object.", "subscription_data")
    for name in value:
        if name not in _SUBSCRIPTION_DATA:
            raise unknown_param(f"subscription_data[{name}]")
    days = as_int(value.get("trial_period_days"), "subscription_data[trial_period_days]")
    if days is not None and not 1 <= days <= 730:
        raise invalid("trial_period_days must be between 1 and 730.", "subscription_data[trial_period_days]")
    trial_end = as_int(value.get("trial_end"), "subscription_data[trial_end]")
    if days and trial_end:
        raise invalid("You may only specify one of these parameters: trial_end, trial_period_days.",
                      "subscription_data[trial_end]")
    if trial_end is not None and trial_end < now + 2 * DAY:
        raise invalid("trial_end must be at least 48 hours in the future.", "subscription_data[trial_end]")
    return {"metadata": merge_metadata({}, value.get("metadata")), "trial_period_days": days,
            "trial_end": trial_end, "description": value.get("description") or None}


@routes.post("/v1/checkout/sessions")
def create(call: Call) -> dict:
    params = call.params
    check_known(params, _KNOWN)
    mode = required(params, "mode")
    if mode != "subscription":
        raise invalid(f"The stand-in's Checkout supports mode=subscription only, not {mode!r}.", "mode")
    if params.get("ui_mode") not in (None, "", "hosted"):
        raise invalid("The stand-in's Checkout supports ui_mode=hosted only.", "ui_mode")
    if params.get("customer") and params.get("customer_email"):
        raise invalid("You may only specify one of these parameters: customer, customer_email.", "customer_email")
    customer = call.account.get("customer", params["customer"], "customer")["id"] if params.get("customer") else None
    now = int(time.time())
    lines = _line_items(call, params.get("line_items"))
    data = _subscription_data(params.get("subscription_data"), now)
    success_url, cancel_url = _url(params, "success_url"), _url(params, "cancel_url")
    expires_at = as_int(params.get("expires_at"), "expires_at")
    if expires_at is not None and not now + 1800 <= expires_at <= now + DAY:
        raise invalid("expires_at must be between 30 minutes and 24 hours from now.", "expires_at")
    trial = bool(data.get("trial_period_days") or data.get("trial_end"))
    amount = 0 if trial else sum(line["amount_total"] for line in lines)
    session_id = new_id("cs_live_" if call.account.account.livemode else "cs_test_", 58)
    session = {
        "id": session_id,
        "object": "checkout.session",
        "adaptive_pricing": {"enabled": False},
        "after_expiration": None,
        "allow_promotion_codes": as_bool(params.get("allow_promotion_codes"), "allow_promotion_codes"),
        "amount_subtotal": amount,
        "amount_total": amount,
        "automatic_tax": {"enabled": False, "liability": None, "provider": None, "status": None},
        "billing_address_collection": None,
        "cancel_url": cancel_url,
        "client_reference_id": params.get("client_reference_id") or None,
        "client_secret": None,
        "consent": None,
        "consent_collection": None,
        "created": now,
        "currency": lines[0]["currency"],
        "custom_fields": [],
        "customer": customer,
        "customer_creation": None if customer else "always",
        "customer_details": None,
        "customer_email": params.get("customer_email") or None,
        "discounts": [],
        "expires_at": expires_at or now + DAY,
        "invoice": None,
        "invoice_creation": None,
        "livemode": False,
        "locale": params.get("locale") or None,
        "metadata": merge_metadata({}, params.get("metadata")),
        "mode": "subscription",
        "payment_intent": None,
        "payment_link": None,
        "payment_method_collection": "always",
        "payment_method_types": ["card"],
        "payment_status": "unpaid",
        "phone_number_collection": {"enabled": False},
        "recovered_from": None,
        "setup_intent": None,
        "shipping_address_collection": None,
        "shipping_cost": None,
        "shipping_options": [],
        "status": "open",
        "submit_type": None,
        "subscription": None,
        "success_url": success_url,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": "hosted",
        "url": f"{call.core.base_url}/checkout/{session_id}",
        "_line_items": lines,
        "_subscription_data": data,
    }
    call.account.add(session)
    return _answer(call, session, params.get("expand"))


def _answer(call: Call, session: dict, expand) -> dict:
    """The session's answer; `expand[]=line_items` embeds its line items (they are not an id to resolve)."""
    paths = as_list(expand, "expand")
    out = export(call.account, session, [path for path in paths if path != "line_items"])
    if "line_items" in paths:
        out["line_items"] = _line_items_page(call, session, {})
    return out


def _line_items_page(call: Call, session: dict, params: dict) -> dict:
    lines = list(reversed(session["_line_items"]))  # list_page answers newest first; Stripe keeps their order
    return list_page(call.account, lines, params, f"/v1/checkout/sessions/{session['id']}/line_items")


@routes.get("/v1/checkout/sessions/{id}")
def retrieve(call: Call) -> dict:
    session = checkout.refresh(call, call.account.get("checkout.session", call.match["id"]))
    return _answer(call, session, call.params.get("expand"))


@routes.get("/v1/checkout/sessions/{id}/line_items")
def line_items(call: Call) -> dict:
    check_known(call.params, {"limit", "starting_after", "ending_before"})
    return _line_items_page(call, call.account.get("checkout.session", call.match["id"]), call.params)


@routes.post("/v1/checkout/sessions/{id}/expire")
def expire(call: Call) -> dict:
    session = checkout.refresh(call, call.account.get("checkout.session", call.match["id"]))
    if session["status"] != "open":
        raise invalid(f"Only Checkout Sessions with a status in [\"open\"] can be expired. This Checkout Session "
                      f"has a status of \"{session['status']}\".")
    checkout.expire(call, session)
    return _answer(call, session, call.params.get("expand"))


@routes.get("/v1/checkout/sessions")
def list_all(call: Call) -> dict:
    params = call.params
    check_known(params, {"customer", "subscription", "status", "payment_intent", "payment_link", "customer_details",
                         "created", "limit", "starting_after", "ending_before"})
    customer, subscription, status = params.get("customer"), params.get("subscription"), params.get("status")
    created_ok = created_test(params.get("created"))
    if status is not None and status not in ("open", "complete", "expired"):
        raise invalid(f"Invalid status: {status}", "status")
    email = (params.get("customer_details") or {}).get("email") if isinstance(params.get("customer_details"),
                                                                              dict) else None
    found = (
        s
        for s in call.account.objects["checkout.session"].values()
        if (customer is None or s["customer"] == customer)
        and (subscription is None or s["subscription"] == subscription)
        and (status is None or s["status"] == status)
        and (email is None or (s["customer_details"] or {}).get("email") == email)
        and created_ok(s["created"])
    )
    return list_page(call.account, found, params, "/v1/checkout/sessions")
