"""Stripe's test payment methods and what a charge on each does in the stand-in.

The magic ids stay the payment method ids (real Stripe makes a fresh `pm_...` from them), so a test can tell
from a customer or a subscription which card it holds.
"""

from dataclasses import dataclass

from .errors import StripeError


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    # "pays" always; "declines" always; "first_only": the first invoice of a new subscription pays, then
    # every later charge fails (card 0341 "attaches to the customer, then its charges fail").
    behaviour: str


TEST_CARDS = {
    "pm_card_visa": TestCard("visa", "4242", "pays"),
    "pm_card_mastercard": TestCard("mastercard", "4444", "pays"),
    "pm_card_chargeDeclined": TestCard("visa", "0002", "declines"),
    "pm_card_visa_chargeDeclined": TestCard("visa", "0002", "declines"),
    "pm_card_chargeCustomerFail": TestCard("visa", "0341", "first_only"),
}


# The card numbers a Checkout page accepts, as Stripe's test numbers, and the payment method each becomes.
CARD_NUMBERS = {
    "4242424242424242": "pm_card_visa",
    "5555555555554444": "pm_card_mastercard",
    "4000000000000002": "pm_card_chargeDeclined",
    "4000000000000341": "pm_card_chargeCustomerFail",
}


def card_from_number(number: str) -> tuple[str | None, str | None]:
    """(payment method id, None) for a test card number (spaces and dashes allowed), else (None, the message
    Stripe's card field shows). A number not in the table is refused, as Stripe refuses a real card in test mode."""
    digits = "".join(ch for ch in str(number or "") if ch not in " -")
    if digits in CARD_NUMBERS:
        return CARD_NUMBERS[digits], None
    if not digits or (digits.isdigit() and len(digits) < 16):
        return None, "Your card number is incomplete."
    return None, "Your card number is invalid."


def check_payment_method(pm_id, param: str) -> str:
    if pm_id not in TEST_CARDS:
        raise StripeError(404, f"No such PaymentMethod: '{pm_id}'", code="resource_missing", param=param)
    return pm_id


def charge_succeeds(pm_id: str | None, *, first_invoice: bool) -> bool:
    """No payment method pays: a stand-in simplification, so a test needs no card to get an active subscription."""
    if pm_id is None:
        return True
    behaviour = TEST_CARDS[pm_id].behaviour
    return behaviour == "pays" or (behaviour == "first_only" and first_invoice)


def payment_method(pm_id: str) -> dict | None:
    card = TEST_CARDS.get(pm_id)
    if card is None:
        return None
    return {
        "id": pm_id,
        "object": "payment_method",
        "type": "card",
        "card": {
            "brand": card.brand,
            "last4": card.last4,
            "exp_month": 12,
            "exp_year": 2034,
            "country": "US",
            "funding": "credit",
        },
        "billing_details": {"address": None, "email": None, "name": None, "phone": None},
        "customer": None,
        "created": 0,
        "livemode": False,
        "metadata": {},
    }
