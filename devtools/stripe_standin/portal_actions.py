"""What a Billing Portal session's buttons may do and doing it, shared by its page (pages/billing.py) and
`StandIn.billing_action`. Each action is a call of the subscriptions resource (update or cancel), so its events
are the API's own: `customer.subscription.updated` with `previous_attributes`, or `customer.subscription.deleted`.
"""

from dataclasses import replace

from .errors import Refused, StripeError
from .resources import subscriptions
from .routing import Call

ACTIONS = ("cancel_at_period_end", "cancel_now", "resume", "switch")
_ENDED = ("canceled", "incomplete_expired")


def find_session(core, session_id: str):
    """(account, session) for a portal session id, whichever account made it; (None, None) if none did."""
    for account in core.accounts.by_id.values():
        session = account.objects["billing_portal.session"].get(session_id)
        if session is not None:
            return account, session
    return None, None


def configuration_of(account, session: dict) -> dict:
    return account.objects["billing_portal.configuration"][session["configuration"]]


def subscriptions_of(account, customer_id: str) -> list[dict]:
    """The customer's subscriptions that have not ended, oldest first."""
    return [s for s in account.objects["subscription"].values()
            if s["customer"] == customer_id and s["status"] not in _ENDED]


def switch_prices(account, configuration: dict, subscription: dict) -> list[dict]:
    """The prices the subscription may switch to: those its configuration lists (when it lists its product), or,
    when it lists no products, the other active recurring prices of the subscription's own product; always the
    same currency, never the current price. A subscription of several items cannot switch here."""
    update = configuration["features"].get("subscription_update") or {}
    items = subscription["items"]["data"]
    if not update.get("enabled") or len(items) != 1:
        return []
    prices = account.objects["price"]
    current = prices[items[0]["price"]]
    if update.get("products"):
        listed = {entry["product"]: entry["prices"] for entry in update["products"]}
        if current["product"] not in listed:
            return []
        candidates = [prices[price_id] for ids in listed.values() for price_id in ids if price_id in prices]
    else:
        candidates = [p for p in prices.values() if p["product"] == current["product"]]
    return [p for p in candidates
            if p["active"] and p["type"] == "recurring" and p["currency"] == current["currency"]
            and p["id"] != current["id"]]


def available(account, configuration: dict, subscription: dict) -> list[tuple[str, dict | None]]:
    """(action, price or None) for each button the page shows, in its order."""
    cancel = configuration["features"].get("subscription_cancel") or {}
    any_mode = configuration.get("_any_cancel_mode", False)
    actions: list[tuple[str, dict | None]] = []
    if cancel.get("enabled"):
        if not subscription["cancel_at_period_end"] and (any_mode or cancel.get("mode") == "at_period_end"):
            actions.append(("cancel_at_period_end", None))
        if any_mode or cancel.get("mode") == "immediately":
            actions.append(("cancel_now", None))
    if subscription["cancel_at_period_end"]:
        actions.append(("resume", None))
    actions.extend(("switch", price) for price in switch_prices(account, configuration, subscription))
    return actions


def act(call: Call, session: dict, subscription_id: str | None, action: str | None, price_id: str | None = None) -> str:
    """Does one button's action at once and answers the session's return_url (where the page redirects)."""
    account = call.account
    subscription = account.objects["subscription"].get(subscription_id or "")
    if subscription is None or subscription["customer"] != session["customer"] or subscription["status"] in _ENDED:
        raise Refused(404, "This subscription is not one you can manage here.")
    if action not in ACTIONS:
        raise Refused(400, f"Unknown action: {action!r}.")
    offered = available(account, configuration_of(account, session), subscription)
    if not any(name == action and (price is None or price["id"] == price_id) for name, price in offered):
        raise Refused(400, "This change is not available for this subscription.")
    target = replace(call, match={"id": subscription["id"]})
    try:
        if action == "cancel_now":
            subscriptions.cancel(replace(target, params={}))
        elif action == "switch":
            item = subscription["items"]["data"][0]["id"]
            params = {"items": [{"id": item, "price": price_id}], "proration_behavior": "none"}
            subscriptions.update(replace(target, params=params))
        else:
            subscriptions.update(replace(target, params={"cancel_at_period_end": action == "cancel_at_period_end"}))
    except StripeError as error:
        raise Refused(400, error.message) from error
    return session["return_url"]
