"""One free trial per customer and product, even with Checkouts made at the same moment: Stripe Checkouts that
offer a product's trial carry TRIAL_OF, and only one of them can be paid."""

import time

from sqlmodel import Session

from portal.billing.gateway import Gateway
from portal.subscriptions.calls import stripe_call

# On a Checkout Session that offers the trial of a product: the price it is for, and when the click that made it
# asked for it (in nanoseconds: Stripe's `created` counts whole seconds, and a double-click's two fall in one).
TRIAL_OF, TRIAL_PRICE, TRIAL_ASKED = "skm_trial_product_id", "skm_trial_price_id", "skm_trial_asked_ns"


def trial_marks(product_id: int, stripe_price_id: str) -> dict:
    return {TRIAL_OF: str(product_id), TRIAL_PRICE: stripe_price_id, TRIAL_ASKED: str(time.time_ns())}


def same_price(checkout: dict, stripe_price_id: str) -> bool:
    return (checkout.get("metadata") or {}).get(TRIAL_PRICE) == stripe_price_id


def trial_checkouts(session: Session, gateway: Gateway, stripe_customer: str, product_id: int) -> list[dict]:
    """The customer's Checkouts of the last day that offered this product's trial, open, complete or expired."""
    # An open session is at most a day old (Stripe's longest expiry); each Subscribe ends the open ones before it
    # makes its own, so the newest hundred of a day hold any that could still give the trial.
    since = int(time.time()) - 25 * 3600
    made = stripe_call(session, gateway.checkout_sessions, customer=stripe_customer, since=since)
    return [checkout for checkout in made if (checkout.get("metadata") or {}).get(TRIAL_OF) == str(product_id)]


def trial_left(session: Session, gateway: Gateway, stripe_customer: str, product_id: int) -> bool:
    """The trial is still the customer's to take, among Checkouts not yet (or only just) paid too: one paid with
    this product's trial (its events not here yet) takes it; open ones offering it are ended first, so that only
    the newest can be paid and two tabs do not give two trials."""
    for checkout in trial_checkouts(session, gateway, stripe_customer, product_id):
        if checkout.get("status") == "complete":
            return False
        if checkout.get("status") == "open" and not _ended(session, gateway, checkout):
            return False  # paid just now
    return True


def trial_keeper(session: Session, gateway: Gateway, stripe_customer: str, product_id: int,
                 made: dict) -> dict | None:
    """Which open Checkout keeps the product's trial, now that `made` (which offers it) exists: None if one was paid
    meanwhile (the trial is taken), else the newest still open (by when its click asked, then id), whose older ones
    are ended. Two clicks at once (a double-click, two tabs) each ask this after making their own: when each sees
    the other's, both name the same keeper, and the other ends its own and sends its browser to the keeper. A click
    that looked before the other's Checkout existed keeps its own until the newer one ends it (its tab then shows
    Stripe's page for an ended Checkout): either way only one can be paid."""
    def rank(checkout: dict) -> tuple[int, int, str]:
        asked = (checkout.get("metadata") or {}).get(TRIAL_ASKED, "")
        return int(asked) if asked.isdecimal() else 0, checkout.get("created") or 0, checkout["id"]

    others = [checkout for checkout in trial_checkouts(session, gateway, stripe_customer, product_id)
              if checkout["id"] != made["id"]]
    if any(checkout.get("status") == "complete" for checkout in others):
        return None
    still_open = [checkout for checkout in others if checkout.get("status") == "open"]
    keeper = max([made, *still_open], key=rank)
    if keeper is not made:
        return keeper
    not_ended = {checkout["id"] for checkout in still_open if not _ended(session, gateway, checkout)}
    # One that could not be ended was ended by its own click meanwhile (fine), or paid just now (it has the trial).
    if not_ended and any(checkout["id"] in not_ended and checkout.get("status") == "complete"
                         for checkout in trial_checkouts(session, gateway, stripe_customer, product_id)):
        return None
    return made


def _ended(session: Session, gateway: Gateway, checkout: dict) -> bool:
    """End an open Checkout; False if it was paid or ended meanwhile."""
    return stripe_call(session, gateway.expire_checkout_session, checkout["id"])
