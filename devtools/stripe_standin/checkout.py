"""Paying a Checkout Session, shared by its local page (pages/checkout.py) and `StandIn.pay_checkout`.

The customer (made here when the session had only an e-mail) and the subscription are made by the customers and
subscriptions resources themselves, so they send the same events as the API; `checkout.session.completed` follows.
"""

import time
from dataclasses import replace

from .cards import card_from_number, charge_succeeds
from .errors import Refused, StripeError
from .events import emit
from .routing import Call


def find_session(core, session_id: str):
    """(account, session) for a session id, whichever account made it; (None, None) if none did."""
    for account in core.accounts.by_id.values():
        session = account.objects["checkout.session"].get(session_id)
        if session is not None:
            return account, session
    return None, None


def has_trial(session: dict) -> bool:
    data = session["_subscription_data"]
    return bool(data.get("trial_period_days") or data.get("trial_end"))


def redirect_url(session: dict) -> str:
    return session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])


def refresh(call: Call, session: dict) -> dict:
    """An open session past its `expires_at` expires when it is next looked at (the stand-in has no clock)."""
    if session["status"] == "open" and session["expires_at"] <= time.time():
        expire(call, session)
    return session


def expire(call: Call, session: dict) -> None:
    session["status"] = "expired"
    emit(call, "checkout.session.expired", session)


def pay(call: Call, session: dict, card_number: str, email: str | None = None) -> str:
    """Pays an open session with a test card number and returns where the browser goes next (the success_url
    with the session id filled in). Paying a completed session again changes nothing and answers the same."""
    refresh(call, session)
    if session["status"] == "complete":
        return redirect_url(session)
    if session["status"] == "expired":
        raise Refused(410, "This Checkout Session has expired.")
    card, problem = card_from_number(card_number)
    if problem:
        raise Refused(400, problem, "card_number")
    email = session["customer_email"] or (email or "").strip() or None
    if session["customer"] is None and (not email or "@" not in email):
        raise Refused(400, "Your email is incomplete." if not email else "Your email is invalid.", "email")
    if not charge_succeeds(card, first_invoice=True):
        raise Refused(402, "Your card was declined.", "card_number")
    account = call.account
    for line in session["_line_items"]:
        if not account.objects["price"][line["price"]]["active"]:
            raise Refused(400, "This plan is no longer available.")
    # Late import: resources/checkout_sessions.py imports this module while the resources package loads.
    from .resources import customers, subscriptions

    try:
        customer_id = session["customer"]
        if customer_id is None:
            params = {"email": email, "payment_method": card, "invoice_settings": {"default_payment_method": card}}
            customer_id = customers.create(replace(call, params=params, match={}))["id"]
        customer = account.get("customer", customer_id, "customer")
        if card not in customer["_payment_methods"]:
            customer["_payment_methods"] = [*customer["_payment_methods"], card]
        subscription = subscriptions.create(replace(call, params=_subscription_params(session, customer_id, card),
                                                    match={}))
    except StripeError as error:
        raise Refused(error.status if error.status < 500 else 400, error.message) from error
    session.update(
        status="complete",
        payment_status="no_payment_required" if has_trial(session) else "paid",
        customer=customer_id,
        subscription=subscription["id"],
        invoice=subscription["latest_invoice"],
        customer_details={"address": None, "email": customer["email"], "name": customer["name"], "phone": None,
                          "tax_exempt": "none", "tax_ids": []},
    )
    emit(call, "checkout.session.completed", session)
    return redirect_url(session)


def _subscription_params(session: dict, customer_id: str, card: str) -> dict:
    """What `subscriptions.create` receives: the session's prices, its subscription_data, and the card as the
    subscription's default payment method (as Checkout sets it)."""
    data = session["_subscription_data"]
    params = {
        "customer": customer_id,
        "items": [{"price": line["price"], "quantity": line["quantity"]} for line in session["_line_items"]],
        "metadata": dict(data["metadata"]),
        "default_payment_method": card,
    }
    for name in ("trial_period_days", "trial_end", "description"):
        if data.get(name):
            params[name] = data[name]
    return params
