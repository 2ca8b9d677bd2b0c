"""Subscriptions: create (first invoice charged at once), retrieve, update, cancel, list, search.

Stored items hold their price's id; the exporter embeds the full price, as Stripe answers.
"""

import time

from .. import billing
from ..cards import charge_succeeds, check_payment_method
from ..errors import card_declined, invalid, missing_param
from ..events import emit, updated
from ..export import export, exporter, list_page
from ..ids import new_id
from ..params import as_bool, as_int, as_list, check_known, merge_metadata
from ..routing import Call, RouteTable
from ..search import search_objects

routes = RouteTable()

_IGNORED = {"proration_behavior", "payment_behavior", "collection_method", "off_session", "payment_settings",
            "automatic_tax", "description", "billing_cycle_anchor", "proration_date", "cancellation_details"}
_SEARCHABLE = frozenset({"status", "created", "customer"})
ENDED = ("canceled", "incomplete_expired")
_STATUSES = ("incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused")


@exporter("subscription")
def _export_subscription(account, subscription: dict) -> dict:
    prices = account.objects["price"]
    items = subscription["items"]
    data = [{**item, "price": prices[item["price"]]} for item in items["data"]]
    return {**subscription, "items": {**items, "data": data}}


def _item(call: Call, subscription_id: str, spec, index: int, period: tuple[int, int]) -> dict:
    if not isinstance(spec, dict) or not spec.get("price"):
        raise missing_param(f"items[{index}][price]")
    price = call.account.get("price", spec["price"], f"items[{index}][price]")
    if price["type"] != "recurring":
        raise invalid("The price specified is set to `type=one_time` but this field only accepts prices with "
                      "`type=recurring`.", f"items[{index}][price]")
    if not price["active"]:
        raise invalid(f"The price specified is inactive: {price['id']}", f"items[{index}][price]")
    return {
        "id": new_id("si_", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": int(time.time()),
        "current_period_end": period[1],
        "current_period_start": period[0],
        "discounts": [],
        "metadata": merge_metadata({}, spec.get("metadata")),
        "price": price["id"],
        "quantity": as_int(spec.get("quantity"), f"items[{index}][quantity]") or 1,
        "subscription": subscription_id,
        "tax_rates": [],
    }


def _trial_end(call: Call, now: int, first_price: dict) -> int | None:
    params = call.params
    if params.get("trial_end") not in (None, "", "now"):
        return as_int(params["trial_end"], "trial_end")
    days = as_int(params.get("trial_period_days"), "trial_period_days")
    if days is None and as_bool(params.get("trial_from_plan"), "trial_from_plan"):
        days = (first_price["recurring"] or {}).get("trial_period_days")
    return now + days * billing.DAY if days else None


@routes.get("/v1/subscriptions/search")
def search(call: Call) -> dict:
    return search_objects(call, "subscription", _SEARCHABLE)


@routes.post("/v1/subscriptions")
def create(call: Call) -> dict:
    params = call.params
    check_known(params, {"customer", "items", "metadata", "trial_period_days", "trial_end", "trial_from_plan",
                         "default_payment_method", "cancel_at_period_end", "cancel_at", "currency"} | _IGNORED)
    customer = call.account.get("customer", params.get("customer"), "customer")
    specs = as_list(params.get("items"), "items")
    if not specs:
        raise missing_param("items")
    subscription_id, now = new_id("sub_", 24), int(time.time())
    first_price = call.account.get("price", specs[0].get("price") if isinstance(specs[0], dict) else None,
                                   "items[0][price]")
    trial_end = _trial_end(call, now, first_price)
    period_end = trial_end or billing.add_interval(now, first_price["recurring"] or {"interval": "month",
                                                                                     "interval_count": 1})
    items = [_item(call, subscription_id, spec, i, (now, period_end)) for i, spec in enumerate(specs)]
    if not trial_end:
        for item in items:
            item["current_period_end"] = billing.add_interval(now, call.account.objects["price"][item["price"]]
                                                              ["recurring"])
    pm = params.get("default_payment_method") or None
    if pm is not None:
        check_payment_method(pm, "default_payment_method")
    subscription = {
        "id": subscription_id,
        "object": "subscription",
        "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": period_end if trial_end else now,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_thresholds": None,
        "cancel_at": as_int(params.get("cancel_at"), "cancel_at"),
        "cancel_at_period_end": bool(as_bool(params.get("cancel_at_period_end"), "cancel_at_period_end")),
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically",
        "created": now,
        "currency": first_price["currency"],
        "customer": customer["id"],
        "days_until_due": None,
        "default_payment_method": pm,
        "default_source": None,
        "default_tax_rates": [],
        "description": params.get("description"),
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "items": {"object": "list", "data": items, "has_more": False, "total_count": len(items),
                  "url": f"/v1/subscription_items?subscription={subscription_id}"},
        "latest_invoice": None,
        "livemode": False,
        "metadata": merge_metadata({}, params.get("metadata")),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {"payment_method_options": None, "payment_method_types": None,
                             "save_default_payment_method": "off"},
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": now,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": now if trial_end else None,
    }
    if subscription["cancel_at_period_end"]:
        subscription["cancel_at"] = period_end
    invoice = billing.open_invoice(call, subscription, "subscription_create", (now, now), trial=bool(trial_end))
    paid = invoice["amount_due"] == 0 or charge_succeeds(billing.payment_method_for(call, subscription),
                                                         first_invoice=True)
    if not paid and params.get("payment_behavior") == "error_if_incomplete":
        del call.account.objects["invoice"][invoice["id"]]
        raise card_declined()
    subscription["status"] = ("trialing" if trial_end else "active") if paid else "incomplete"
    call.account.add(subscription)
    emit(call, "customer.subscription.created", subscription)
    billing.finalize(call, invoice)
    billing.settle(call, invoice, paid)
    return export(call.account, subscription, params.get("expand"))


@routes.get("/v1/subscriptions/{id}")
def retrieve(call: Call) -> dict:
    return export(call.account, call.account.get("subscription", call.match["id"]), call.params.get("expand"))


def _update_items(call: Call, subscription: dict, specs: list) -> bool:
    """Apply `items[]`; whether the first item now bills over another interval (a monthly price switched to a
    yearly one)."""
    items = subscription["items"]["data"]
    prices = call.account.objects["price"]
    billed = _interval(prices[items[0]["price"]])
    by_id = {item["id"]: item for item in items}
    period = (items[0]["current_period_start"], items[0]["current_period_end"])
    for index, spec in enumerate(specs):
        if not isinstance(spec, dict):
            raise invalid(f"Invalid items[{index}]", f"items[{index}]")
        item = by_id.get(spec.get("id")) if spec.get("id") else None
        if spec.get("id") and item is None:
            raise invalid(f"Invalid subscription item: {spec['id']}", f"items[{index}][id]")
        if item is None:
            items.append(_item(call, subscription["id"], spec, index, period))
        elif as_bool(spec.get("deleted"), f"items[{index}][deleted]"):
            items.remove(item)
        else:
            if spec.get("price"):
                item["price"] = _item(call, subscription["id"], spec, index, period)["price"]
            if spec.get("quantity") not in (None, ""):
                item["quantity"] = as_int(spec["quantity"], f"items[{index}][quantity]")
            item["metadata"] = merge_metadata(item["metadata"], spec.get("metadata"))
    if not items:
        raise invalid("A subscription must keep at least one item.", "items")
    subscription["items"]["total_count"] = len(items)
    return _interval(prices[items[0]["price"]]) != billed


def _interval(price: dict) -> tuple:
    recurring = price.get("recurring") or {}
    return recurring.get("interval"), recurring.get("interval_count")


def _restart_period(call: Call, subscription: dict) -> None:
    """A switch to a price of another billing interval starts a new period now and invoices it at once, as Stripe
    resets the billing cycle anchor then (the stand-in never prorates: the old period's unused part is not
    credited). A declined card leaves the subscription past due, as a failed renewal does."""
    now = int(time.time())
    billing.begin_periods(call, subscription, now)
    end = subscription["items"]["data"][0]["current_period_end"]
    if subscription["cancel_at_period_end"]:  # it still ends with its period: the new one
        subscription["cancel_at"] = end
    billing.bill(call, subscription, "subscription_update", (now, end))


@routes.post("/v1/subscriptions/{id}")
def update(call: Call) -> dict:
    params = call.params
    check_known(params, {"metadata", "items", "cancel_at_period_end", "cancel_at", "default_payment_method",
                         "trial_end"} | _IGNORED)
    subscription = call.account.get("subscription", call.match["id"])
    if subscription["status"] == "canceled" and set(params) - {"metadata", "cancellation_details", "expand"}:
        raise invalid("A canceled subscription can only update its cancellation_details and metadata.")
    before = export(call.account, subscription)
    subscription["metadata"] = merge_metadata(subscription["metadata"], params.get("metadata"))
    if "items" in params and _update_items(call, subscription, as_list(params["items"], "items")) \
            and subscription["status"] in ("active", "past_due", "unpaid"):
        _restart_period(call, subscription)
    if "default_payment_method" in params:
        pm = params["default_payment_method"] or None
        subscription["default_payment_method"] = pm and check_payment_method(pm, "default_payment_method")
    if "cancel_at_period_end" in params:
        at_end = as_bool(params["cancel_at_period_end"], "cancel_at_period_end")
        subscription["cancel_at_period_end"] = bool(at_end)
        subscription["cancel_at"] = subscription["items"]["data"][0]["current_period_end"] if at_end else None
        subscription["canceled_at"] = int(time.time()) if at_end else None
    if "cancel_at" in params:
        subscription["cancel_at"] = as_int(params["cancel_at"], "cancel_at")
        subscription["cancel_at_period_end"] = False
    if params.get("cancellation_details"):
        subscription["cancellation_details"] = {**subscription["cancellation_details"],
                                                **params["cancellation_details"]}
    return updated(call, "customer.subscription.updated", subscription, before, params.get("expand"))


@routes.delete("/v1/subscriptions/{id}")
def cancel(call: Call) -> dict:
    check_known(call.params, {"invoice_now", "prorate", "cancellation_details"})
    subscription = call.account.get("subscription", call.match["id"])
    if subscription["status"] in ENDED:
        raise invalid(f"This subscription is already canceled: {subscription['id']}")
    end(call, subscription, call.params.get("cancellation_details") or {})
    return export(call.account, subscription, call.params.get("expand"))


def end(call: Call, subscription: dict, details: dict) -> None:
    """Cancel at once (a DELETE of the subscription, or of its customer) and tell the webhooks."""
    now = int(time.time())
    subscription.update(status="canceled", canceled_at=now, ended_at=now)
    subscription["cancellation_details"] = {**subscription["cancellation_details"], "reason": "cancellation_requested",
                                            **details}
    emit(call, "customer.subscription.deleted", subscription)


@routes.get("/v1/subscriptions")
def list_all(call: Call) -> dict:
    params = call.params
    check_known(params, {"customer", "price", "status", "limit", "starting_after", "ending_before", "created",
                         "collection_method", "current_period_end", "current_period_start", "test_clock"})
    status = params.get("status")
    if status is not None and status not in (*_STATUSES, "all", "ended"):
        raise invalid(f"Invalid status: {status}", "status")
    customer, price = params.get("customer"), params.get("price")

    def wanted(subscription: dict) -> bool:
        if customer is not None and subscription["customer"] != customer:
            return False
        if price is not None and all(item["price"] != price for item in subscription["items"]["data"]):
            return False
        if status is None:  # Stripe's default list leaves out canceled subscriptions
            return subscription["status"] != "canceled"
        if status == "ended":
            return subscription["status"] in ENDED
        return status == "all" or subscription["status"] == status

    found = (s for s in call.account.objects["subscription"].values() if wanted(s))
    return list_page(call.account, found, params, "/v1/subscriptions")
