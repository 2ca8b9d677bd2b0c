"""The customer's Stripe Checkouts made here, so that a double-click or a second tab never leaves two to pay: one
open Checkout per customer and plan (the newest; older ones are ended), and one free trial per customer and
product, even with Checkouts made at the same moment (Checkouts that offer a product's trial carry TRIAL_OF, and
only one of them can be paid)."""

import time

from sqlmodel import Session

from portal.billing.gateway import Gateway
from portal.subscriptions.calls import stripe_call

# On every Checkout Session made here: the price it is for, and when the click that made it asked for it (in
# nanoseconds: Stripe's `created` counts whole seconds, and a double-click's two fall in one). On one that offers a
# product's trial, that product too.
PRICE, ASKED, TRIAL_OF = "skm_checkout_price_id", "skm_checkout_asked_ns", "skm_trial_product_id"


def checkout_marks(stripe_price_id: str, *, trial_of: int | None = None) -> dict:
    marks = {PRICE: stripe_price_id, ASKED: str(time.time_ns())}
    return marks | ({TRIAL_OF: str(trial_of)} if trial_of is not None else {})


def _marks(checkout: dict) -> dict:
    return checkout.get("metadata") or {}


def same_price(checkout: dict, stripe_price_id: str) -> bool:
    return _marks(checkout).get(PRICE) == stripe_price_id


def _recent(session: Session, gateway: Gateway, stripe_customer: str) -> list[dict]:
    """The customer's Checkouts of the last day, open, complete or expired."""
    # An open session is at most a day old (Stripe's longest expiry); each Subscribe ends the older open ones of its
    # plan, and of its product's trial, so the newest hundred of a day hold any that could still be paid.
    since = int(time.time()) - 25 * 3600
    return stripe_call(session, gateway.checkout_sessions, customer=stripe_customer, since=since)


def trial_checkouts(session: Session, gateway: Gateway, stripe_customer: str, product_id: int) -> list[dict]:
    """The customer's Checkouts of the last day that offered this product's trial."""
    return [checkout for checkout in _recent(session, gateway, stripe_customer)
            if _marks(checkout).get(TRIAL_OF) == str(product_id)]


def trial_left(session: Session, gateway: Gateway, stripe_customer: str, product_id: int) -> bool:
    """The trial is still the customer's to take, among Checkouts not yet (or only just) paid too: one paid with
    this product's trial (its events not here yet) takes it; open ones offering it are ended first, so that only
    the newest can be paid and two tabs do not give two trials."""
    for checkout in trial_checkouts(session, gateway, stripe_customer, product_id):
        if checkout.get("status") == "complete":
            return False
        if checkout.get("status") == "open" and not end_checkout(session, gateway, checkout["id"]) and \
                stripe_call(session, gateway.checkout_session, checkout["id"]).get("status") == "complete":
            return False  # paid just now (not ended by its own click meanwhile, as a triple-click's may be)
    return True


def _newest_open(session: Session, gateway: Gateway, made: dict, others: list[dict]) -> tuple[dict, set[str]]:
    """Which of `made` and the open ones among `others` keeps being payable: the newest (by when its click asked,
    then Stripe's `created`, then id). When that is `made`, the others are ended; returns the keeper and the ids of
    those that could not be ended (ended by their own click meanwhile, or paid just now).

    Two clicks at once (a double-click, two tabs) each ask this after making their own: when each sees the
    other's, both name the same keeper, and the other ends its own and sends its browser to the keeper. A click
    that looked before the other's Checkout existed keeps its own until the newer one ends it (its tab then shows
    Stripe's page for an ended Checkout): either way only one can be paid."""
    def rank(checkout: dict) -> tuple[int, int, str]:
        asked = _marks(checkout).get(ASKED, "")
        return int(asked) if asked.isdecimal() else 0, checkout.get("created") or 0, checkout["id"]

    still_open = [checkout for checkout in others if checkout["id"] != made["id"] and checkout.get("status") == "open"]
    keeper = max([made, *still_open], key=rank)
    if keeper is not made:
        return keeper, set()
    return made, {checkout["id"] for checkout in still_open if not end_checkout(session, gateway, checkout["id"])}


def trial_keeper(session: Session, gateway: Gateway, stripe_customer: str, product_id: int,
                 made: dict) -> dict | None:
    """Which open Checkout keeps the product's trial, now that `made` (which offers it) exists: None if one was paid
    meanwhile (the trial is taken), else the newest still open, whose older ones are ended."""
    others = [checkout for checkout in trial_checkouts(session, gateway, stripe_customer, product_id)
              if checkout["id"] != made["id"]]
    if any(checkout.get("status") == "complete" for checkout in others):
        return None
    keeper, not_ended = _newest_open(session, gateway, made, others)
    # One that could not be ended was ended by its own click meanwhile (fine), or paid just now (it has the trial).
    if not_ended and any(checkout["id"] in not_ended and checkout.get("status") == "complete"
                         for checkout in trial_checkouts(session, gateway, stripe_customer, product_id)):
        return None
    return keeper


def plan_keeper(session: Session, gateway: Gateway, stripe_customer: str, made: dict) -> dict:
    """Which open Checkout of `made`'s plan stays payable, now that `made` exists (a trial one once it keeps the
    trial): the newest, with or without a trial, whose older ones are ended. A license bought on one does not stop
    the next: a second license is bought after the first Checkout, not beside it."""
    price = _marks(made).get(PRICE, "")
    others = [checkout for checkout in _recent(session, gateway, stripe_customer) if same_price(checkout, price)]
    return _newest_open(session, gateway, made, others)[0]


def end_checkout(session: Session, gateway: Gateway, checkout_id: str) -> bool:
    """End an open Checkout; False if it was paid or ended meanwhile."""
    return stripe_call(session, gateway.expire_checkout_session, checkout_id)
