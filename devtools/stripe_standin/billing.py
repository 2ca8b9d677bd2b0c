"""Subscription billing: periods, invoices and their payment, shared by the API and the control API's `advance`.

Shapes follow API 2026-10-28: periods live on subscription items, and an invoice names its subscription under
`parent.subscription_details`. Charges are decided by the test card (cards.py); there is no clock, so a
subscription moves to its next period only when a test calls `StandIn.advance_subscription`.
"""

import calendar
import time
from datetime import UTC, datetime

from .cards import charge_succeeds
from .errors import card_declined, invalid
from .events import changes, emit
from .export import export
from .ids import new_id
from .routing import Call

DAY = 86400


def add_interval(timestamp: int, recurring: dict) -> int:
    interval, count = recurring["interval"], recurring["interval_count"]
    if interval in ("day", "week"):
        return timestamp + count * DAY * (7 if interval == "week" else 1)
    months = count * (12 if interval == "year" else 1)
    start = datetime.fromtimestamp(timestamp, UTC)
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return int(start.replace(year=year, month=month, day=day).timestamp())


def payment_method_for(call: Call, subscription: dict) -> str | None:
    """The card a charge uses: the subscription's, else the customer's default, else the card attached last
    (real Stripe would not charge a card that is not the default: a stand-in simplification), else none."""
    if subscription["default_payment_method"]:
        return subscription["default_payment_method"]
    customer = call.account.objects["customer"].get(subscription["customer"])
    if not customer or customer.get("deleted"):
        return None
    attached = customer["_payment_methods"]
    return customer["invoice_settings"]["default_payment_method"] or (attached[-1] if attached else None)


def open_invoice(call: Call, subscription: dict, reason: str, period: tuple[int, int], trial: bool = False) -> dict:
    """A draft invoice for the subscription's items over `period`; stored, no event yet (see `finalize`)."""
    now = int(time.time())
    invoice_id = new_id("in_", 24)
    customer = call.account.objects["customer"].get(subscription["customer"], {})
    lines = [_line(call, invoice_id, subscription, item, trial) for item in subscription["items"]["data"]]
    amount = sum(line["amount"] for line in lines)
    invoice = {
        "id": invoice_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": call.account.account.name,
        "amount_due": amount,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_remaining": amount,
        "amount_shipping": 0,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": True,
        "billing_reason": reason,
        "collection_method": "charge_automatically",
        "created": now,
        "currency": subscription["currency"],
        "customer": subscription["customer"],
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "default_payment_method": None,
        "description": None,
        "due_date": None,
        "effective_at": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "lines": {"object": "list", "data": lines, "has_more": False, "total_count": len(lines),
                  "url": f"/v1/invoices/{invoice_id}/lines"},
        "livemode": False,
        "metadata": {},
        "next_payment_attempt": None,
        "number": None,
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"metadata": dict(subscription["metadata"]), "subscription": subscription["id"]},
        },
        "period_end": period[1],
        "period_start": period[0],
        "starting_balance": 0,
        "status": "draft",
        "status_transitions": {"finalized_at": None, "marked_uncollectible_at": None, "paid_at": None,
                               "voided_at": None},
        "subtotal": amount,
        "subtotal_excluding_tax": amount,
        "total": amount,
        "total_excluding_tax": amount,
        "webhooks_delivered_at": None,
    }
    subscription["latest_invoice"] = invoice_id
    return call.account.add(invoice)


def _line(call: Call, invoice_id: str, subscription: dict, item: dict, trial: bool) -> dict:
    price = call.account.objects["price"][item["price"]]
    product = call.account.objects["product"].get(price["product"], {})
    amount = 0 if trial else price["unit_amount"] * item["quantity"]
    description = f"{item['quantity']} × {product.get('name', price['product'])}"
    return {
        "id": new_id("il_", 24),
        "object": "line_item",
        "amount": amount,
        "currency": price["currency"],
        "description": ("Trial period for " if trial else "") + description,
        "discount_amounts": [],
        "discountable": True,
        "discounts": [],
        "invoice": invoice_id,
        "livemode": call.account.account.livemode,
        "metadata": dict(subscription["metadata"]),
        "parent": {
            "type": "subscription_item_details",
            "invoice_item_details": None,
            "subscription_item_details": {"invoice_item": None, "proration": False,
                                          "proration_details": {"credited_items": None},
                                          "subscription": subscription["id"], "subscription_item": item["id"]},
        },
        "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
        "pretax_credit_amounts": [],
        "pricing": {"type": "price_details", "price_details": {"price": price["id"], "product": price["product"]},
                    "unit_amount_decimal": str(price["unit_amount"])},
        "quantity": item["quantity"],
        "subscription": subscription["id"],
        "subtotal": amount,
        "taxes": [],
    }


def finalize(call: Call, invoice: dict) -> None:
    emit(call, "invoice.created", invoice)
    invoice["status"] = "open"
    invoice["number"] = f"{invoice['id'][3:11].upper()}-0001"
    invoice["effective_at"] = invoice["status_transitions"]["finalized_at"] = int(time.time())
    emit(call, "invoice.finalized", invoice)


def settle(call: Call, invoice: dict, paid: bool) -> None:
    """Records a charge attempt on an open invoice and its events (a zero invoice is paid without a charge)."""
    invoice["attempted"] = True
    if invoice["amount_due"] > 0:
        invoice["attempt_count"] += 1
    if not paid:
        emit(call, "invoice.payment_failed", invoice)
        return
    invoice.update(status="paid", amount_paid=invoice["amount_due"], amount_remaining=0)
    invoice["status_transitions"]["paid_at"] = int(time.time())
    emit(call, "invoice.paid", invoice)
    emit(call, "invoice.payment_succeeded", invoice)


def begin_periods(call: Call, subscription: dict, start: int) -> None:
    """Each item's period begins at `start` and runs one interval of its price."""
    for item in subscription["items"]["data"]:
        item["current_period_start"] = start
        item["current_period_end"] = add_interval(start, call.account.objects["price"][item["price"]]["recurring"])


def bill(call: Call, subscription: dict, reason: str, period: tuple[int, int], outcome: str | None = None) -> None:
    """Invoices `period` and charges it (the card decides, unless `outcome` says): paid, the subscription is active;
    declined, past due."""
    invoice = open_invoice(call, subscription, reason, period)
    if outcome is None:
        paid = charge_succeeds(payment_method_for(call, subscription), first_invoice=False)
    else:
        paid = outcome == "paid" or invoice["amount_due"] == 0
    subscription["status"] = "active" if paid else "past_due"
    finalize(call, invoice)
    settle(call, invoice, paid)


def advance(call: Call, subscription: dict, outcome: str | None = None) -> dict:
    """Moves a subscription to its next period as a renewal would (or ends it, if it was to cancel then)."""
    if subscription["status"] not in ("active", "trialing", "past_due", "unpaid"):
        raise ValueError(f"a {subscription['status']} subscription has no next period")
    if outcome not in (None, "paid", "failed"):
        raise ValueError("outcome is 'paid', 'failed' or None (the card decides)")
    before = export(call.account, subscription)
    items = subscription["items"]["data"]
    start, end = items[0]["current_period_start"], items[0]["current_period_end"]
    cancel_at = subscription["cancel_at"]
    if subscription["cancel_at_period_end"] or (cancel_at is not None and cancel_at <= end):
        subscription.update(status="canceled", ended_at=end, canceled_at=subscription["canceled_at"] or end)
        emit(call, "customer.subscription.deleted", subscription)
        return subscription
    begin_periods(call, subscription, end)
    bill(call, subscription, "subscription_cycle", (start, end), outcome)
    emit(call, "customer.subscription.updated", subscription, changes(before, export(call.account, subscription)))
    return subscription


def pay(call: Call, invoice: dict, payment_method: str | None, out_of_band: bool = False) -> dict:
    """`POST /v1/invoices/{id}/pay`: charges an open invoice; a paid renewal brings its subscription back to active."""
    if invoice["status"] != "open":
        message = "Invoice is already paid." if invoice["status"] == "paid" else "This invoice cannot be paid."
        raise invalid(message, code="invoice_not_open")
    subscription_id = invoice["parent"]["subscription_details"]["subscription"]
    subscription = call.account.objects["subscription"][subscription_id]
    card = payment_method or payment_method_for(call, subscription)
    first = invoice["billing_reason"] == "subscription_create"
    paid = out_of_band or charge_succeeds(card, first_invoice=first)
    before = export(call.account, subscription)
    settle(call, invoice, paid)
    if not paid:
        raise card_declined("payment_method" if payment_method else None)
    if subscription["latest_invoice"] == invoice["id"] and subscription["status"] in ("past_due", "incomplete",
                                                                                       "unpaid"):
        subscription["status"] = "active"
        emit(call, "customer.subscription.updated", subscription, changes(before, export(call.account, subscription)))
    return invoice
