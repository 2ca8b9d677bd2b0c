"""The vendor's journey: Stripe tried with test keys, then live keys (or another account) connected. The test-mode
records stay, hidden, with their keys; Checkout, the Billing Portal, the pages and reconcile use the live ones."""

import dataclasses
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from portal.billing import reconcile
from portal.billing.scope import hidden_note
from portal.billing_models import StripeConnection, StripeCustomer, StripeDrift, StripePrice, Subscription
from tests.billing.conftest import SIGNING_SECRET, app_session, linked_prices
from tests.billing.test_portal_subscriptions import _subscribe
from tests.billing.test_webhook_endpoint import signed
from tests.support.pages import csrf_token, post_form
from tests.support.world import db_rows

SETTINGS = "/vendor/settings/stripe"
LIVE_SECRET = "whsec_live_portal_signing_secret_0002"


def _offer_all(shop) -> None:
    with app_session(shop.app) as session:
        session.execute(update(StripePrice).values(offered=True))
        session.commit()


@pytest.fixture
def tried(shop, vendor, portal_client):
    """The vendor tried Stripe in test mode: a customer subscribed through Checkout and has a key."""
    _offer_all(shop)
    shop.standin.pay_checkout(shop.secret_key, _subscribe(portal_client, shop, vendor))
    shop.settle()
    assert len(shop.keys()) == 1
    return shop


def connect_keys(shop, vendor_client, served_app, vendor, *, livemode=True, secret=LIVE_SECRET):
    """The vendor pastes another account's keys in Settings (its endpoint in Stripe sends to the same address); the
    Shop of that account, with two new prices of the product offered."""
    account = shop.standin.create_account(name="Acme Live", livemode=livemode)
    shop.standin.register_webhook(account.secret_key, f"{served_app}/stripe/webhook/{vendor.slug}", secret)
    page = post_form(vendor_client, f"{SETTINGS}/connect", {"secret_key": account.secret_key, "webhook_secret": secret},
                     page=SETTINGS, follow_redirects=True).get_data(as_text=True)
    assert f"Stripe is connected to Acme Live ({account.id}), in {'live' if livemode else 'test'} mode." in page
    monthly, yearly = linked_prices(shop.app, vendor, shop.product)
    _offer_all(shop)
    shop.settle()
    return dataclasses.replace(shop, secret_key=account.secret_key, monthly=monthly, yearly=yearly), account


def test_after_going_live_the_customer_gets_a_live_stripe_customer_and_sees_only_live_subscriptions(
        tried, vendor, customer, portal_client, vendor_client, served_app):
    test_link = tried.db.exec(select(StripeCustomer)).one()
    test_record = tried.db.exec(select(Subscription)).one()
    live, account = connect_keys(tried, vendor_client, served_app, vendor)

    base = f"/Portal/@{vendor.slug}"
    page = portal_client.get(f"{base}/").get_data(as_text=True)
    assert "Manage billing" not in page and "<td>Active</td>" not in page  # the test-mode subscription is hidden
    live_prices = tried.db.exec(select(StripePrice.id).where(StripePrice.livemode.is_(True))).all()
    test_prices = tried.db.exec(select(StripePrice.id).where(StripePrice.livemode.is_(False))).all()
    offered = {int(value) for value in _values_of(page, "price")}
    assert offered == set(live_prices) and not offered & set(test_prices)

    checkout = _subscribe(portal_client, live, vendor)
    assert checkout.startswith("cs_live_")
    session = live.stripe.checkout.sessions.retrieve(checkout)
    assert session.customer != test_link.stripe_customer_id  # a new Stripe customer, made in live mode
    links = tried.db.exec(select(StripeCustomer).order_by(StripeCustomer.id)).all()
    assert [(link.stripe_customer_id, link.livemode, link.stripe_account_id) for link in links] == [
        (test_link.stripe_customer_id, False, test_link.stripe_account_id), (session.customer, True, account.id)]

    live.standin.pay_checkout(live.secret_key, checkout)
    live.settle()  # the live endpoint's event, signed with the live secret, is processed
    record = tried.db.exec(select(Subscription).where(Subscription.livemode.is_(True))).one()
    assert (record.stripe_account_id, record.customer_id, record.stripe_customer_id) == (
        account.id, customer.id, session.customer)
    assert len(live.keys()) == 2 and not any(key.block for key in live.keys())  # the test key stays
    page = portal_client.get(f"{base}/Subscriptions").get_data(as_text=True)
    assert page.count(">Active<") == 1 and "Manage billing" in page
    answer = portal_client.post(f"{base}/Subscriptions/ManageBilling",
                                data={"csrf_token": csrf_token(portal_client, f"{base}/Subscriptions")})
    assert answer.status_code == 303 and answer.headers["Location"].startswith(f"{live.standin.url}/billing/bps_")
    assert test_record.stripe_subscription_id not in vendor_client.get(
        f"/vendor/customers/{customer.id}").get_data(as_text=True)


def _values_of(page: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="(\d+)"', page)


def test_the_vendors_pages_hide_the_test_records_say_so_and_show_them_again_after_a_switch_back(
        tried, vendor, vendor_client, served_app):
    test_record = tried.db.exec(select(Subscription)).one()
    test_account = test_record.stripe_account_id
    test_prices = [tried.monthly, tried.yearly]
    live, account = connect_keys(tried, vendor_client, served_app, vendor)

    page = vendor_client.get("/vendor/subscriptions/").get_data(as_text=True)
    assert test_record.stripe_subscription_id not in page
    assert (f"1 test-mode subscription of another Stripe account ({test_account}) is hidden since you connected "
            f"live keys of {account.id}. Their license keys stay.") in page
    product_page = vendor_client.get(f"/vendor/products/{tried.product.id}").get_data(as_text=True)
    product_page = product_page[product_page.index('id="plans-heading"'):].split("</section>")[0]  # not its history
    assert live.monthly in product_page and live.yearly in product_page
    assert not any(price in product_page for price in test_prices)
    assert f"2 test-mode prices of another Stripe account ({test_account}) are hidden" in product_page
    test_price = tried.db.exec(select(StripePrice).where(StripePrice.stripe_price_id == tried.monthly)).one()
    settings = f"/vendor/products/{tried.product.id}/prices/{test_price.id}/settings"
    assert vendor_client.get(settings).status_code == 404

    connect_keys(tried, vendor_client, served_app, vendor, livemode=False)  # a third account: everything hidden
    assert "Demo App" not in vendor_client.get("/vendor/subscriptions/").get_data(as_text=True)
    page = post_form(vendor_client, f"{SETTINGS}/connect", {"secret_key": tried.secret_key,
                                                           "webhook_secret": SIGNING_SECRET},
                     page=SETTINGS, follow_redirects=True).get_data(as_text=True)
    assert f"({test_account}), in test mode." in page
    page = vendor_client.get("/vendor/subscriptions/").get_data(as_text=True)
    assert test_record.stripe_subscription_id in page and 'data-testid="hidden-subscriptions"' not in page
    assert not any(key.block for key in tried.keys())


def test_reconcile_looks_only_at_the_records_of_the_connected_account_and_mode(tried, vendor, vendor_client,
                                                                                served_app, monkeypatch):
    monkeypatch.setattr(reconcile, "SETTLING_TIME", timedelta(0))
    with app_session(tried.app) as session:  # a test-mode record that needs a repair, and a test-mode finding
        session.execute(update(Subscription).values(key_written=False))
        session.add(StripeDrift(vendor_id=vendor.id, kind="customer_unlinked", stripe_id="cus_test_only", detail="x"))
        session.commit()
    assert len(reconcile.needs_attention(tried.db, vendor_id=vendor.id)) == 2
    live, _account = connect_keys(tried, vendor_client, served_app, vendor)
    assert reconcile.needs_attention(tried.db, vendor_id=vendor.id) == []  # the earlier look is forgotten too

    live.subscribe()  # a live subscription made outside the portal (with skm_temp_var): Stripe's event makes its key
    live.settle()
    with app_session(tried.app) as session:
        connection = session.exec(select(StripeConnection)).one()
        summary = reconcile.reconcile(session, live.access, connection=connection, dry_run=False, actor="test",
                                      portal_link=None)
    assert (summary.subscriptions, summary.found, summary.failed) == (1, {}, {})
    test_record = tried.db.exec(select(Subscription).where(Subscription.livemode.is_(False))).one()
    assert test_record.key_written is False  # left as it was: live Stripe has no such subscription


def test_an_event_of_the_other_mode_is_refused_and_writes_nothing(tried, app, client, vendor, vendor_client,
                                                                  served_app):
    connect_keys(tried, vendor_client, served_app, vendor)
    test_record = tried.db.exec(select(Subscription)).one()
    body = json.dumps({"id": "evt_test_mode", "type": "customer.subscription.updated", "livemode": False,
                       "data": {"object": {"id": test_record.stripe_subscription_id}}}).encode()
    before = db_rows(app)
    answer = client.post(f"/stripe/webhook/{vendor.slug}", data=body, headers=signed(body, secret=LIVE_SECRET))
    assert answer.status_code == 400
    assert "test-mode event, and Stripe is connected here with a live-mode key" in answer.json["error"]
    assert db_rows(app) == before


def test_a_connection_from_before_the_account_id_learns_it_and_keeps_its_records(tried, vendor, vendor_client,
                                                                                served_app):
    account = tried.db.exec(select(StripeConnection.stripe_account_id)).one()
    with app_session(tried.app) as session:  # as the migration leaves a connection and its records
        for model in (StripeConnection, StripeCustomer, StripePrice, Subscription):
            session.execute(update(model).values(stripe_account_id=""))
        session.commit()
    record = tried.db.exec(select(Subscription)).one()
    assert record.stripe_subscription_id in vendor_client.get("/vendor/subscriptions/").get_data(as_text=True)

    post_form(vendor_client, f"{SETTINGS}/test", {}, page=SETTINGS)
    for model in (StripeConnection, StripeCustomer, StripePrice, Subscription):
        assert set(tried.db.exec(select(model.stripe_account_id)).all()) == {account}, model
    assert record.stripe_subscription_id in vendor_client.get("/vendor/subscriptions/").get_data(as_text=True)

    with app_session(tried.app) as session:
        for model in (StripeConnection, StripeCustomer, StripePrice, Subscription):
            session.execute(update(model).values(stripe_account_id=""))
        session.commit()
    connect_keys(tried, vendor_client, served_app, vendor)  # the replaced key is asked whose it was
    for model in (StripeCustomer, Subscription):
        assert tried.db.exec(select(model.stripe_account_id)).all() == [account], model


def test_the_note_names_the_mode_alone_within_one_account(db, vendor):
    connection = StripeConnection(vendor_id=vendor.id, livemode=True, stripe_account_id="acct_same")
    db.add_all([Subscription(vendor_id=vendor.id, stripe_subscription_id=f"sub_{n}", stripe_account_id="acct_same")
                for n in range(12)] +
               [Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_live", livemode=True,
                             stripe_account_id="acct_same"),
                Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_old"),
                # Of no known account, in the connection's mode: counted as the connection's (not hidden).
                Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_unknown", livemode=True)])
    db.commit()
    assert hidden_note(db, connection, Subscription, "subscription") == (
        "1 test-mode subscription of an earlier Stripe connection is hidden since you connected live keys of "
        "acct_same. 12 test-mode subscriptions are hidden since you connected live keys.")


def test_records_of_no_known_account_stay_the_connections_after_a_reconnect(tried, vendor, vendor_client, customer,
                                                                          portal_client):
    """Records kept before the portal learnt accounts, whose key can no longer say whose they were (disconnected,
    then connected again): they stay the paying customer's, in the vendor's list and the customer's portal, and
    Checkout is not offered to them again."""
    with app_session(tried.app) as session:  # as the migration left a connection and its records
        for model in (StripeConnection, StripeCustomer, StripePrice, Subscription):
            session.execute(update(model).values(stripe_account_id=""))
        session.commit()
    record = tried.db.exec(select(Subscription)).one()
    post_form(vendor_client, f"{SETTINGS}/disconnect", {}, page=SETTINGS)
    post_form(vendor_client, f"{SETTINGS}/connect", {"secret_key": tried.secret_key, "webhook_secret": SIGNING_SECRET},
              page=SETTINGS)
    assert record.stripe_subscription_id in vendor_client.get("/vendor/subscriptions/").get_data(as_text=True)
    page = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "Manage billing" in page and ">Active<" in page


def test_a_key_of_a_hidden_subscription_expires_like_any_key(tried, vendor, vendor_client, served_app, app):
    """No event renews or blocks it once its mode is hidden: with "block expired keys" on, the expiry sweep does."""
    from portal.keys.sweep import block_expired_keys
    from portal.models import LicenseKey, Vendor, utcnow

    (key,) = tried.keys()
    connect_keys(tried, vendor_client, served_app, vendor)
    with app_session(app) as session:
        session.execute(update(Vendor).where(Vendor.id == vendor.id).values(block_expired_keys=True))
        session.execute(update(LicenseKey).where(LicenseKey.id == key.id)
                        .values(expires=utcnow() - timedelta(days=1)))
        session.commit()
        assert block_expired_keys(session) == 1
        session.commit()
        assert session.get(LicenseKey, key.id).block


def test_a_key_page_says_when_a_stripe_subscription_pays_for_the_key(tried, vendor_client, make, vendor):
    (key,) = tried.keys()
    record = tried.db.exec(select(Subscription)).one()
    html = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert "Paid for by a Stripe subscription" in html and record.stripe_subscription_id in html
    assert "payments do not unblock a key you blocked" in html  # said before blocking it by hand
    plain = make.key(make.product(vendor, name="Other"))
    assert "Paid for by a Stripe subscription" not in vendor_client.get(f"/vendor/keys/{plain.id}").get_data(
        as_text=True)



def test_a_key_of_a_hidden_subscription_stops_saying_renews_on_and_says_it_again_after_a_switch_back(
        tried, vendor, vendor_client, portal_client, served_app, app):
    """Its customer is reminded of its expiry like any key's, and no card promises a renewal no event will bring."""
    from portal.keys.reminders import due_for_reminder
    from portal.models import AuditEvent, LicenseKey, Vendor, utcnow

    (key,) = tried.keys()
    record = tried.db.exec(select(Subscription)).one()
    assert key.renews_on == record.current_period_end is not None
    card = f"/Portal/@{vendor.slug}/"
    assert "Renews on" in portal_client.get(card).get_data(as_text=True)

    connect_keys(tried, vendor_client, served_app, vendor)
    tried.db.expire_all()
    assert tried.db.get(LicenseKey, key.id).renews_on is None
    assert "Renews on" not in portal_client.get(card).get_data(as_text=True)
    with app_session(app) as session:
        owner = session.get(Vendor, vendor.id)
        owner.remind_days_before_expiry = 365
        assert session.exec(select(LicenseKey.id).where(*due_for_reminder(owner, utcnow()))).all() == [key.id]
    (stopped,) = tried.db.exec(select(AuditEvent).where(AuditEvent.action == "key.renewal_stopped",
                                                        AuditEvent.subject_type == "key",
                                                        AuditEvent.subject_id == key.id)).all()
    assert stopped.actor.startswith("vendor_user:") and json.loads(stopped.after) == {"renews_on": None}

    post_form(vendor_client, f"{SETTINGS}/connect", {"secret_key": tried.secret_key, "webhook_secret": SIGNING_SECRET},
              page=SETTINGS)
    tried.db.expire_all()
    assert tried.db.get(LicenseKey, key.id).renews_on == record.current_period_end
    assert "Renews on" in portal_client.get(card).get_data(as_text=True)
