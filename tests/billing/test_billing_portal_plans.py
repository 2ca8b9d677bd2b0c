"""Manage billing: the plans a subscriber may switch to in Stripe's Billing Portal are the plans offered here (a
product page's "Offered"), not every price of the product in Stripe."""

from sqlmodel import select

from devtools.stripe_standin.errors import Refused
from portal.billing import plans
from portal.billing_models import StripeConnection, StripePrice, Subscription
from tests.billing.conftest import app_session
from tests.support.pages import csrf_token


def _offer(shop, stripe_price_id: str, offered: bool = True) -> None:
    with app_session(shop.app) as session:
        row = session.exec(select(StripePrice).where(StripePrice.stripe_price_id == stripe_price_id)).one()
        plans.set_offered(session, vendor_id=shop.vendor.id, product_id=shop.product.id, price_id=row.id,
                          offered=offered, actor="test")
        session.commit()


def _new_price(shop, amount: str) -> str:
    with app_session(shop.app) as session:
        row = plans.create_price(session, shop.access, vendor_id=shop.vendor.id, product_id=shop.product.id,
                                 amount=amount, currency="usd", interval="month", actor="test")
        session.commit()
        return row.stripe_price_id


def _billing(shop, portal_client, vendor) -> str:
    base = f"/Portal/@{vendor.slug}/Subscriptions"
    answer = portal_client.post(f"{base}/ManageBilling", data={"csrf_token": csrf_token(portal_client, base)})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(shop.standin.url)
    return answer.headers["Location"].rsplit("/", 1)[1]


def _switches(shop, session_id: str, record: Subscription, price: str) -> bool:
    try:
        shop.standin.billing_action(shop.secret_key, session_id, record.stripe_subscription_id, "switch", price=price)
    except Refused:
        return False
    return True


def test_only_offered_plans_are_plans_to_switch_to(shop, customer, vendor, portal_client):
    for price in (shop.monthly, shop.yearly):
        _offer(shop, price)
    private = _new_price(shop, "1000")  # linked, not offered: a price being prepared, say
    shop.subscribe(customer=customer)
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    session_id = _billing(shop, portal_client, vendor)
    assert not _switches(shop, session_id, record, private)
    _offer(shop, shop.yearly, offered=False)  # withdrawn
    assert not _switches(shop, _billing(shop, portal_client, vendor), record, shop.yearly)
    _offer(shop, private)  # offered now: a plan to switch to, in a configuration of its own
    assert _switches(shop, _billing(shop, portal_client, vendor), record, private)
    made = [c for c in shop.stripe.billing_portal.configurations.list(params={"limit": 100}).data
            if c.metadata.to_dict().get("skm_portal") == "offered_plans"]
    assert len(made) == 3 and all(c.features.subscription_cancel.enabled for c in made)  # the default's settings
    assert [c.active for c in made].count(True) == 1  # each replaced one switched off


def test_a_default_configuration_that_lets_nobody_switch_is_used_as_it_is(shop, customer, vendor, portal_client):
    _offer(shop, shop.monthly)
    _offer(shop, shop.yearly)
    configurations = shop.stripe.billing_portal.configurations
    default = configurations.list(params={"is_default": True}).data[0]
    configurations.update(default.id, params={"features": {"subscription_update": {"enabled": False}}})
    shop.subscribe(customer=customer)
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    assert not _switches(shop, _billing(shop, portal_client, vendor), record, shop.yearly)
    assert [c.id for c in configurations.list(params={"limit": 100}).data] == [default.id]


def test_the_plans_configuration_keeps_the_defaults_update_behaviour(shop):
    """Made 'from the account's default one': the default's downgrade-at-period-end, trial and anchor settings of
    subscription_update are Stripe parameters too (API 2026-10-28), and dropping them changes what a switch costs."""
    from portal.subscriptions.portal_configurations import plans_configuration

    update = {"enabled": True, "default_allowed_updates": ["price"], "proration_behavior": "create_prorations",
              "products": [], "billing_cycle_anchor": "unchanged", "trial_update_behavior": "continue_trial",
              "schedule_at_period_end": {"conditions": [{"type": "decreasing_item_amount"}]}}
    default = {"id": "bpc_default", "is_default": True, "active": True, "created": 1, "metadata": {},
               "business_profile": {}, "features": {"subscription_update": update,
                                                    "subscription_cancel": {"enabled": True, "mode": "at_period_end"}}}

    class Fake:
        made = []

        def billing_portal_configurations(self):
            return [default]

        def create_billing_portal_configuration(self, **asked):
            self.made.append(asked)
            return {"id": "bpc_made"}

    with app_session(shop.app) as session:
        for row in session.exec(select(StripePrice)).all():
            row.offered = True
        session.commit()
        fake = Fake()
        plans_configuration(session, fake, session.exec(select(StripeConnection)).one())
    asked = fake.made[0]["features"]["subscription_update"]
    kept = {name: asked.get(name) for name in ("schedule_at_period_end", "trial_update_behavior",
                                                "billing_cycle_anchor")}
    assert kept == {name: update[name] for name in kept}, f"dropped: {kept}"
