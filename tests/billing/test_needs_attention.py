"""Drift between Stripe and the keys: found, shown in words, repaired in one click or by `flask stripe reconcile`,
and a second repair changes nothing."""

from datetime import timedelta

import pytest
from sqlmodel import select

from portal.billing import reconcile
from portal.billing_models import StripeDrift, Subscription
from portal.models import Customer, LicenseKey
from tests.billing.conftest import TEMP_VAR
from tests.support.pages import csrf_token
from tests.support.world import db_rows

ATTENTION = "/vendor/subscriptions/attention"


@pytest.fixture
def unsettled(monkeypatch):
    """Drift counts at once (not ten minutes after a subscription began), for the test's planted subscriptions."""
    monkeypatch.setattr(reconcile, "SETTLING_TIME", timedelta(0))


def _plant(shop, customer, email="planted@example.test"):
    """A paid subscription whose events never reached the portal: still `skm_temp_var`, no key. The events of the
    shop's setting up are delivered first (one still on its way wrote to the database under a later snapshot)."""
    shop.settle()
    shop.standin.hold_deliveries()
    subscription = shop.subscribe(customer=customer, email=email)
    return subscription


def test_a_charged_subscription_without_a_key_is_shown_and_repaired_once(shop, customer, vendor_client, mailbox,
                                                                         unsettled, make, vendor):
    make.account(vendor, customer, email="ada.login@example.test")
    subscription = _plant(shop, customer)
    answer = vendor_client.post(f"{ATTENTION}/check", data={"csrf_token": csrf_token(vendor_client, ATTENTION)},
                                follow_redirects=True)
    page = answer.get_data(as_text=True)
    assert subscription["id"] in page and "charged with no key made" in page
    assert "1</span> needs attention" in vendor_client.get("/vendor/").get_data(as_text=True)

    drift = shop.db.exec(select(StripeDrift).where(StripeDrift.stripe_id == subscription["id"])).one()
    repair = f"/vendor/subscriptions/drift/{drift.id}/repair"
    answer = vendor_client.post(repair, data={"csrf_token": csrf_token(vendor_client, ATTENTION)},
                                follow_redirects=True)
    assert f"Repaired {subscription['id']}." in answer.get_data(as_text=True)
    key = shop.key()
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata["skm_key_id"] == str(key.key_number) and "skm_temp_var" not in metadata
    mails = mailbox.to("ada.login@example.test")
    assert len(mails) == 1 and "license" in mails[0]["Subject"] and key.key not in str(mails[0])

    again = vendor_client.post(repair, data={"csrf_token": csrf_token(vendor_client, ATTENTION)})
    assert again.status_code == 404  # what was repaired is no longer listed
    shop.standin.release_deliveries()
    shop.settle()
    assert len(shop.keys()) == 1 and len(mailbox.to("ada.login@example.test")) == 1
    assert "Nothing needs attention" in vendor_client.get(ATTENTION).get_data(as_text=True)


def test_a_key_blocked_while_paid_up_is_unblocked(shop, customer, vendor_client):
    from portal.keys.services import set_blocked
    from tests.billing.conftest import app_session

    shop.subscribe(customer=customer)
    shop.settle()
    with app_session(shop.app) as session:
        set_blocked(session, key=session.get(type(shop.key()), shop.key().id), blocked=True, actor="test")
        session.commit()
    page = vendor_client.get(ATTENTION).get_data(as_text=True)
    assert "is blocked while the subscription is paid up" in page
    record = shop.db.exec(select(Subscription)).one()
    vendor_client.post(f"/vendor/subscriptions/{record.id}/repair",
                       data={"csrf_token": csrf_token(vendor_client, ATTENTION)})
    assert not shop.key().block


def test_a_key_is_attached_by_hand(shop, customer, vendor_client, make, unsettled):
    subscription = _plant(shop, customer)
    shop.standin.release_deliveries()
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    made = record.key_id
    mine = make.key(shop.product)  # a key of nobody's: attached, it becomes the subscription's customer's
    page = f"/vendor/subscriptions/{record.id}/attach"
    wrong = vendor_client.post(page, data={"csrf_token": csrf_token(vendor_client, page), "key": "AAAAA-BBBBB"})
    assert wrong.status_code == 422 and "No key of yours is AAAAA-BBBBB" in wrong.get_data(as_text=True)
    too_big = vendor_client.post(page, data={"csrf_token": csrf_token(vendor_client, page), "key": "2147483648"})
    assert too_big.status_code == 422  # a GlobalId past the 32-bit ids: no key, not a database error
    done = vendor_client.post(page, data={"csrf_token": csrf_token(vendor_client, page), "key": mine.key})
    assert done.status_code == 303
    record = shop.db.exec(select(Subscription)).one()
    assert record.key_id == mine.id and record.key_written
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata["skm_key_id"] == str(mine.key_number)
    attached, replaced = (shop.db.get(LicenseKey, key_id) for key_id in (mine.id, made))
    assert attached.customer_id == customer.id and not attached.block and replaced.block


def test_reconcile_lists_drift_in_a_dry_run_then_repairs_it_all(app, shop, customer, runner, unsettled):
    first = _plant(shop, customer, email="one@example.test")
    second = shop.subscribe(email="two@example.test")  # a Stripe customer without skm_customer_id
    lonely = shop.stripe.customers.create(params={"email": "lonely@example.test"})
    before = db_rows(app)

    dry = runner.invoke(args=["stripe", "reconcile", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run" in dry.output and "2 no skm_key_id in Stripe" in dry.output
    assert "customer without skm_customer_id" in dry.output
    assert db_rows(app) == before

    done = runner.invoke(args=["stripe", "reconcile", "--vendor", shop.vendor.slug])
    assert done.exit_code == 0, done.output
    assert len(shop.keys()) == 2
    for subscription in (first, second):
        metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
        assert TEMP_VAR not in metadata.values() and metadata["skm_key_id"]
    assert shop.stripe.customers.retrieve(lonely.id).to_dict()["metadata"]["skm_customer_id"]

    again = runner.invoke(args=["stripe", "reconcile"])
    assert again.exit_code == 0 and "nothing" in again.output
    shop.standin.release_deliveries()
    shop.settle()
    assert len(shop.keys()) == 2


def test_reconcile_says_when_stripe_cannot_be_reached(shop, runner):
    with shop.standin.unavailable():
        answer = runner.invoke(args=["stripe", "reconcile"])
    assert answer.exit_code != 0 and "Stripe answered" in answer.output


def test_an_unknown_status_in_the_address_is_said_and_all_are_shown(shop, customer, vendor_client):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    page = vendor_client.get("/vendor/subscriptions/", query_string={"status": "bogus<b>"}).get_data(as_text=True)
    assert "There is no status “bogus&lt;b&gt;”: all are shown." in page
    assert subscription["id"] in page


def test_a_customer_paying_for_a_live_subscription_cannot_be_deleted(shop, customer, vendor_client):
    """Stripe would go on charging for a key of nobody's: the page says so and offers no Delete; a post is refused
    (as the Web API's RemoveCustomer is, by the same service)."""
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    page = f"/vendor/customers/{customer.id}/delete"
    shown = vendor_client.get(page).get_data(as_text=True)
    assert subscription["id"] in shown and "Cancel them in Stripe first" in shown
    assert "Delete customer</button>" not in shown
    token = csrf_token(vendor_client, f"/vendor/customers/{customer.id}")
    answer = vendor_client.post(page, data={"csrf_token": token})
    assert answer.status_code == 422 and "cancel it in Stripe first" in answer.get_data(as_text=True)
    shop.db.expire_all()
    assert shop.db.get(Customer, customer.id) is not None
    shop.stripe.subscriptions.cancel(subscription["id"])
    shop.settle()
    shown = vendor_client.get(page).get_data(as_text=True)
    assert f"Its Stripe customer ({subscription['customer']}) stays in Stripe" in shown
    assert vendor_client.post(page, data={"csrf_token": csrf_token(vendor_client, page)}).status_code == 303


def test_linking_a_stripe_customer_says_which_customer_it_linked(shop, vendor_client, unsettled):
    shop.settle()
    lonely = shop.stripe.customers.create(params={"email": "lonely@example.test"})
    vendor_client.post(f"{ATTENTION}/check", data={"csrf_token": csrf_token(vendor_client, ATTENTION)})
    drift = shop.db.exec(select(StripeDrift).where(StripeDrift.stripe_id == lonely.id)).one()
    answer = vendor_client.post(f"/vendor/subscriptions/drift/{drift.id}/repair",
                                data={"csrf_token": csrf_token(vendor_client, ATTENTION)}, follow_redirects=True)
    made = shop.db.exec(select(Customer).where(Customer.email == "lonely@example.test")).one()
    assert f"Linked {lonely.id} to a new customer lonely@example.test (#{made.id})." in answer.get_data(as_text=True)
