"""The Billing Portal configurations the portal asks Stripe for, on top of the account's default one (the vendor's
own settings in Stripe): the plans a subscriber may switch to are the plans offered here, and a subscriber who has not
accepted the vendor's new terms may cancel and pay, not start paying for another plan.

Each is made from the default one's business details (and settings), found after that by its metadata, which names
what it was made for: a change of what is asked for (another plan offered, a setting changed in the default one) is
a configuration of its own, and the one it replaces is switched off. The idempotency key keeps two first clicks at
once to one; Stripe answers a key used within a day with its first answer, and refuses it for other parameters, so
the key names all that is asked for, and the last one switched off.
"""

import hashlib
import json
import logging

from sqlmodel import Session, select

from portal.billing.gateway import Gateway
from portal.billing_models import StripeConnection, StripePrice, of_the_connection
from portal.domain import DomainError
from portal.subscriptions.calls import stripe_call

log = logging.getLogger(__name__)
BEFORE_TERMS = {"skm_portal": "before_terms_accepted"}
_BEFORE_TERMS_FEATURES = {"subscription_cancel": {"enabled": True, "mode": "at_period_end"},
                          "payment_method_update": {"enabled": True}, "invoice_history": {"enabled": True},
                          "subscription_update": {"enabled": False}}
OFFERED_PLANS = "offered_plans"
MAX_PRODUCTS = 10  # what Stripe's subscription_update takes
# What a configuration made from the default one keeps of its features: the parameters Stripe takes (API 2026-10-28),
# so that a switch costs what the vendor's own settings say (prorations, downgrades at the period's end, trials).
_KEPT = {"customer_update": ("enabled", "allowed_updates"), "invoice_history": ("enabled",),
         "payment_method_update": ("enabled", "payment_method_configuration"),
         "subscription_cancel": ("enabled", "mode", "proration_behavior", "cancellation_reason"),
         "subscription_pause": ("enabled",),
         "subscription_update": ("enabled", "default_allowed_updates", "proration_behavior", "billing_cycle_anchor",
                                 "schedule_at_period_end", "trial_update_behavior")}


def before_terms_configuration(session: Session, gateway: Gateway, connection: StripeConnection) -> str:
    """The configuration for a subscriber who has not accepted the vendor's current terms."""
    configurations = stripe_call(session, gateway.billing_portal_configurations)
    return _configuration(session, gateway, connection, configurations, BEFORE_TERMS, _BEFORE_TERMS_FEATURES)


def plans_configuration(session: Session, gateway: Gateway, connection: StripeConnection) -> str:
    """The configuration whose plan switches are the prices offered here (a product page's "Offered"), with the
    default one's other settings; "" (the default one) when that lets nobody switch plans. A price linked here and
    not offered (one being prepared, or withdrawn) is no plan to switch to."""
    configurations = stripe_call(session, gateway.billing_portal_configurations)
    features = _default(configurations).get("features") or {}
    update = features.get("subscription_update") or {}
    if not update.get("enabled") or "price" not in (update.get("default_allowed_updates") or ()):
        return ""
    offered: dict[str, list[str]] = {}
    for product, price in session.exec(
            select(StripePrice.stripe_product_id, StripePrice.stripe_price_id).where(
                StripePrice.vendor_id == connection.vendor_id, of_the_connection(StripePrice, connection),
                StripePrice.offered, StripePrice.active, StripePrice.stripe_product_id != "")
            .order_by(StripePrice.stripe_product_id, StripePrice.stripe_price_id)):
        offered.setdefault(product, []).append(price)
    if len(offered) > MAX_PRODUCTS:
        log.warning("Vendor %s offers plans of %d Stripe products; Stripe's Billing Portal switches among %d",
                    connection.vendor_id, len(offered), MAX_PRODUCTS)
    asked = {name: {setting: value for setting, value in (features.get(name) or {}).items()
                    if setting in kept and value not in (None, [], {})}
             for name, kept in _KEPT.items() if features.get(name)}
    products = [{"product": product, "prices": prices} for product, prices in offered.items()][:MAX_PRODUCTS]
    asked["subscription_update"] |= {"enabled": bool(products), "products": products}
    marks = {"skm_portal": OFFERED_PLANS, "skm_plans": _digest(asked)}
    return _configuration(session, gateway, connection, configurations, marks, asked)


def _default(configurations: list[dict]) -> dict:
    return next((c for c in configurations if c.get("is_default") and c.get("active")), {})


def _configuration(session: Session, gateway: Gateway, connection: StripeConnection, configurations: list[dict],
                   marks: dict, features: dict) -> str:
    """The active configuration of these metadata `marks`, else one made now with `features` (and the one of its
    kind it replaces switched off)."""
    ours = [c for c in configurations if (c.get("metadata") or {}).items() >= marks.items()]
    found = next((c["id"] for c in ours if c.get("active")), None)
    if found is not None:
        return found
    asked = {"features": features, "metadata": marks, "business_profile": {
        name: value for name, value in (_default(configurations).get("business_profile") or {}).items() if value}}
    after = max((c.get("created") or 0, c["id"]) for c in ours)[1] if ours else "none"
    mode = "live" if connection.livemode else "test"
    made = stripe_call(session, gateway.create_billing_portal_configuration, **asked, idempotency_key=(
        f"skm-portal-{marks['skm_portal']}-{connection.vendor_id}-{mode}-{_digest([asked, after])}"))["id"]
    for replaced in configurations:
        if replaced.get("active") and (replaced.get("metadata") or {}).get("skm_portal") == marks["skm_portal"]:
            try:  # a sessions' configuration, replaced: no more sessions are made with it
                stripe_call(session, gateway.deactivate_billing_portal_configuration, replaced["id"])
            except DomainError:
                log.warning("Billing Portal configuration %s, replaced by %s, stays active", replaced["id"], made)
    return made


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:24]
