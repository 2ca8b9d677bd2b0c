"""Drift between Stripe and the keys: found, shown in words, repaired in one click or by `flask stripe reconcile`,
and a second repair changes nothing."""

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.billing import reconcile
from portal.billing_models import StripeDrift, Subscription
from portal.models import AuditEvent, Customer, LicenseKey
from tests.billing.conftest import TEMP_VAR
from tests.support.pages import csrf_token, post_form
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
    assert "Stripe could not deliver" in page  # the planted events never reached the portal
    assert "2</span> need attention" in vendor_client.get("/vendor/").get_data(as_text=True)

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
    key = shop.key()
    assert f"Its key (ID {key.key_number}, GlobalId {key.id}) is blocked while the subscription is paid up" in page
    assert 'name="unblock" value="1"' in page
    record = shop.db.exec(select(Subscription)).one()
    vendor_client.post(f"/vendor/subscriptions/{record.id}/repair",
                       data={"csrf_token": csrf_token(vendor_client, ATTENTION), "unblock": "1"})
    assert not shop.key().block


def test_a_key_blocked_by_hand_stays_blocked_through_other_repairs(shop, customer, vendor_client, monkeypatch):
    """Blocked (a chargeback, abuse) while Stripe has still to be told its ID: "Write the metadata" and the hourly
    reconcile write it, and unblock nothing."""
    from portal.billing.gateway import Gateway, StripeUnavailable
    from portal.billing_models import StripeConnection
    from portal.keys.services import set_blocked
    from tests.billing.conftest import app_session

    real = Gateway.update_subscription_metadata

    def away(self, *args, **kwargs):
        raise StripeUnavailable("Stripe is away")

    monkeypatch.setattr(Gateway, "update_subscription_metadata", away)
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    monkeypatch.setattr(Gateway, "update_subscription_metadata", real)
    with app_session(shop.app) as session:
        set_blocked(session, key=session.get(LicenseKey, shop.key().id), blocked=True, actor="vendor_user:1 owner")
        session.commit()
    record = shop.db.exec(select(Subscription)).one()
    assert not record.key_written and "Write the metadata" in vendor_client.get(ATTENTION).get_data(as_text=True)
    vendor_client.post(f"/vendor/subscriptions/{record.id}/repair",
                       data={"csrf_token": csrf_token(vendor_client, ATTENTION)})
    shop.db.expire_all()
    assert shop.key().block and shop.db.get(Subscription, record.id).key_written
    with app_session(shop.app) as session:  # and the periodic run, written back again from scratch
        session.get(Subscription, record.id).key_written = False
        session.commit()
        reconcile.reconcile(session, shop.access, connection=session.exec(select(StripeConnection)).one(),
                            dry_run=False, actor="stripe reconcile", portal_link=None)
    shop.db.expire_all()
    assert shop.key().block and shop.db.get(Subscription, record.id).key_written
    assert shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]["skm_key_id"] == str(
        shop.key().key_number)


def test_a_payment_block_lifted_by_hand_leaves_a_later_hand_block_to_the_vendor(shop, customer, vendor_client):
    """Blocked for an unpaid renewal, unblocked by the vendor, then blocked by the vendor (a chargeback) with no sync
    between: the next payment lifts no block of the vendor's. The key page's buttons and the Web API alike."""
    from portal.keys.services import set_blocked
    from tests.billing.conftest import app_session

    subscription = shop.subscribe(customer=customer)
    shop.settle()
    key_id = shop.key().id
    with app_session(shop.app) as session:  # as the sweep leaves a key whose renewal went unpaid
        set_blocked(session, key=session.get(LicenseKey, key_id), blocked=True, actor="stripe: unpaid renewal")
        session.exec(select(Subscription)).one().blocked_for = "payment"
        session.commit()
    page = f"/vendor/keys/{key_id}"
    for block in ("0", "1"):
        assert post_form(vendor_client, f"{page}/block", {"block": block}, page=page).status_code == 303
    assert shop.db.exec(select(Subscription.blocked_for)).one() == ""
    shop.standin.advance_subscription(shop.secret_key, subscription["id"], outcome="paid")
    shop.settle()
    shop.db.expire_all()
    assert shop.db.get(LicenseKey, key_id).block


def test_a_key_is_attached_by_hand(shop, customer, vendor_client, make, unsettled):
    subscription = _plant(shop, customer)
    shop.standin.release_deliveries()
    shop.settle()
    record = shop.db.exec(select(Subscription)).one()
    made = record.key_id
    mine = make.key(shop.product)  # a key of nobody's: attached, it becomes the subscription's customer's
    page = f"/vendor/subscriptions/{record.id}/attach"
    # The page names the key paid for now, and says a number is a GlobalId: the lists' "key 52" is an ID, and 52
    # typed here attached another key, whose GlobalId it was, in place of the subscriber's.
    replaced_now = shop.db.get(LicenseKey, made)
    shown = vendor_client.get(page).get_data(as_text=True)
    assert (f"It pays for Key ID {replaced_now.key_number} (GlobalId {made}, {replaced_now.key}) now: the key you "
            "attach takes its place") in shown
    assert "A number is a\n      GlobalId, not the ID the lists show" in shown
    wrong = vendor_client.post(page, data={"csrf_token": csrf_token(vendor_client, page), "key": "AAAAA-BBBBB"})
    assert wrong.status_code == 422 and "No key of yours is AAAAA-BBBBB" in wrong.get_data(as_text=True)
    too_big = vendor_client.post(page, data={"csrf_token": csrf_token(vendor_client, page), "key": "2147483648"})
    assert too_big.status_code == 422  # a GlobalId past the 32-bit ids: no key, not a database error
    done = vendor_client.post(page, data={"csrf_token": csrf_token(vendor_client, page), "key": mine.key})
    assert done.status_code == 303
    said = vendor_client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Key ID {mine.key_number} (GlobalId {mine.id}, {mine.key}) is attached to {subscription['id']}" in said
    record = shop.db.exec(select(Subscription)).one()
    assert record.key_id == mine.id and record.key_written
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata["skm_key_id"] == str(mine.key_number)
    attached, replaced = (shop.db.get(LicenseKey, key_id) for key_id in (mine.id, made))
    assert attached.customer_id == customer.id and not attached.block and replaced.block
    trail = vendor_client.get(f"/vendor/activity/?type=subscription&id={record.id}").get_data(as_text=True)
    assert "Key replaced by hand" in trail and "owner@" in trail
    (change,) = shop.db.exec(select(AuditEvent).where(AuditEvent.action == "subscription.key_replaced")).all()
    assert (json.loads(change.before)["key_id"], json.loads(change.after)["key_id"]) == (made, mine.id)


def test_a_key_moved_to_another_customer_or_product_is_put_right(shop, customer, vendor_client, make, vendor):
    """'Make the right key': a key given to another customer goes back to the subscriber; a key of another product
    is ended and the subscription gets a key of its own product, each in the trail."""
    from tests.billing.conftest import app_session

    shop.subscribe(customer=customer)
    shop.settle()
    record, first = shop.db.exec(select(Subscription)).one(), shop.key()
    other, elsewhere = make.customer(vendor, name="Someone Else"), make.product(vendor, name="Other App")
    with app_session(shop.app) as session:
        session.get(LicenseKey, first.id).customer_id = other.id
        session.commit()
    assert "belongs to another product or customer" in vendor_client.get(ATTENTION).get_data(as_text=True)

    def make_right():
        page = vendor_client.get(ATTENTION).get_data(as_text=True)
        assert 'name="remake" value="1"' in page and "Make the right key" in page
        return vendor_client.post(f"/vendor/subscriptions/{record.id}/repair", data={
            "csrf_token": csrf_token(vendor_client, ATTENTION), "remake": "1"})

    assert make_right().status_code == 303
    shop.db.expire_all()
    assert shop.key().customer_id == customer.id and shop.db.get(Subscription, record.id).key_id == first.id
    with app_session(shop.app) as session:
        session.get(LicenseKey, first.id).product_id = elsewhere.id
        session.commit()
    assert make_right().status_code == 303
    shop.db.expire_all()
    now = shop.db.get(Subscription, record.id)
    made = shop.db.get(LicenseKey, now.key_id)
    assert made.id != first.id and made.product_id == shop.product.id and shop.db.get(LicenseKey, first.id).block
    replaced = shop.db.exec(select(AuditEvent).where(AuditEvent.action == "subscription.key_replaced")).one()
    assert (json.loads(replaced.before)["key_id"], json.loads(replaced.after)["key_id"]) == (first.id, None)
    assert "Nothing needs attention" in vendor_client.get(ATTENTION).get_data(as_text=True)


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


def test_events_the_portal_never_received_are_told_until_they_arrive(shop, customer, vendor_client, runner, db,
                                                                     unsettled):
    """A wrong signing secret or address refuses every delivery and writes nothing: the hourly run, which does the
    missed events' work, tells the vendor why each key waited for it."""
    _plant(shop, customer)
    vendor_client.post(f"{ATTENTION}/check", data={"csrf_token": csrf_token(vendor_client, ATTENTION)})
    assert "could not deliver" in vendor_client.get(ATTENTION).get_data(as_text=True) and shop.keys() == []
    assert runner.invoke(args=["stripe", "reconcile", "--vendor", shop.vendor.slug]).exit_code == 0
    assert len(shop.keys()) == 1
    page = vendor_client.get(ATTENTION).get_data(as_text=True)
    assert re.search(r"Stripe could not deliver \d+ events? to the portal", page)
    assert "the signing secret saved there is that endpoint&#39;s" in page
    note = db.exec(select(StripeDrift).where(StripeDrift.kind == "undelivered")).one()
    post_form(vendor_client, f"/vendor/subscriptions/drift/{note.id}/repair", {}, page=ATTENTION)
    assert "could not deliver" not in vendor_client.get(ATTENTION).get_data(as_text=True)
    vendor_client.post(f"{ATTENTION}/check", data={"csrf_token": csrf_token(vendor_client, ATTENTION)})
    assert "could not deliver" in vendor_client.get(ATTENTION).get_data(as_text=True)  # Stripe still lists them
    shop.standin.release_deliveries()
    shop.settle()
    assert "could not deliver" not in vendor_client.get(ATTENTION).get_data(as_text=True)  # the webhook hears again
    assert runner.invoke(args=["stripe", "reconcile", "--vendor", shop.vendor.slug]).exit_code == 0
    assert "Nothing needs attention" in vendor_client.get(ATTENTION).get_data(as_text=True)
