"""Manage billing: the plans a subscriber may switch to in Stripe's Billing Portal are the plans offered here (a
product page's "Offered"), not every price of the product in Stripe."""

from sqlmodel import select

from devtools.stripe_standin.errors import Refused
from portal.billing import plans
from portal.billing_models import StripePrice, Subscription
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

