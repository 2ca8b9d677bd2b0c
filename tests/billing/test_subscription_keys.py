"""A subscription in Stripe makes exactly one key, renews it, blocks it, and Stripe is told the key's ID."""

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.audit import events_for
from portal.billing.sweep import block_overdue_keys
from portal.billing_models import StripeConnection, StripeCustomer, StripeEvent, Subscription
from portal.models import Customer, DataObject, utcnow
from tests.billing.conftest import TEMP_VAR, app_session


def _record(shop, subscription_id) -> Subscription:
    return shop.db.exec(select(Subscription).where(Subscription.stripe_subscription_id == subscription_id)).one()


def test_a_subscription_makes_one_key_and_stripe_is_told_its_id(shop, customer):
    subscription = shop.subscribe(customer=customer)
    shop.settle()

    key = shop.key()
    assert key.customer_id == customer.id and key.product_id == shop.product.id
    assert (key.f1, key.f2, key.max_no_of_machines) == (True, False, 2)
    period_end = max(item["current_period_end"] for item in subscription["items"]["data"])
    assert key.expires.timestamp() == period_end + timedelta(days=3).total_seconds()
    assert key.renews_on.timestamp() == period_end
    assert key.period == round((key.expires - key.created) / timedelta(days=1))  # 33 or 34, not a day short
    managed = shop.db.exec(select(DataObject).where(DataObject.referencer_id == key.id,
                                                    DataObject.name == "cryptolens_stripesubscriptionitemid")).one()
    assert managed.string_value.startswith("si_")

    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata["skm_key_id"] == str(key.key_number) and metadata["skm_key_globalid"] == str(key.id)
    assert "skm_temp_var" not in metadata
    record = _record(shop, subscription["id"])
    assert record.key_id == key.id and record.key_written and record.status == "active"
    events = shop.db.exec(select(StripeEvent)).all()
    assert events and all(event.done_at is not None for event in events)
    trail = events_for(shop.db, vendor_id=shop.vendor.id, subject_type="key", subject_id=key.id)
    assert trail[-1].action == "key.created" and trail[-1].actor.startswith("stripe evt_")


def test_every_page_says_renews_on_rather_than_expires(shop, customer, vendor_client):
    shop.subscribe(customer=customer)
    shop.settle()
    key = shop.key()
    page = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert f"Renews on {key.renews_on:%Y-%m-%d}" in page and "Expires within 14 days" not in page
    listing = vendor_client.get(f"/vendor/products/{shop.product.id}").get_data(as_text=True)
    assert f"Renews on {key.renews_on:%Y-%m-%d}" in listing


def test_a_stripe_customer_without_skm_customer_id_is_matched_by_email_and_told_its_id(shop, make, vendor):
    ada = make.customer(vendor, name="Ada", email="Ada@Example.test")
    subscription = shop.subscribe(email="ada@example.test")
    shop.settle()
    assert shop.key().customer_id == ada.id
    stripe_customer = shop.stripe.customers.retrieve(subscription["customer"]).to_dict()
    assert stripe_customer["metadata"]["skm_customer_id"] == str(ada.id)
    link = shop.db.exec(select(StripeCustomer)).one()
    assert (link.customer_id, link.stripe_customer_id, link.metadata_written) == \
        (ada.id, subscription["customer"], True)


def test_an_unknown_stripe_customer_becomes_a_new_customer(shop, vendor):
    subscription = shop.subscribe(email="new.buyer@example.test")
    shop.settle()
    customer = shop.db.get(Customer, shop.key().customer_id)
    assert (customer.vendor_id, customer.email, customer.origin) == (vendor.id, "new.buyer@example.test", "stripe")
    assert shop.stripe.customers.retrieve(subscription["customer"]).to_dict()["metadata"]["skm_customer_id"] == \
        str(customer.id)


def test_every_event_delivered_again_makes_no_second_key(shop, customer):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    for event in shop.stripe.events.list(params={"limit": 100}).to_dict()["data"]:
        shop.standin.redeliver(shop.secret_key, event["id"])
    shop.settle()
    assert len(shop.keys()) == 1
    assert _record(shop, subscription["id"]).key_written


def test_events_in_any_order_make_one_key_in_the_final_state(shop, customer):
    shop.standin.hold_deliveries()
    subscription = shop.subscribe(customer=customer)
    shop.stripe.subscriptions.update(subscription["id"], params={"cancel_at_period_end": True})
    held = [event["id"] for event in shop.standin.pending_events(shop.secret_key)]
    shop.standin.release_deliveries(order=list(reversed(held)))
    shop.settle()
    key = shop.key()
    record = _record(shop, subscription["id"])
    assert record.cancel_at_period_end and key.renews_on is None and not key.block


def test_stripe_unreachable_answers_5xx_and_the_redelivery_makes_the_key(shop, customer):
    shop.standin.hold_deliveries()
    subscription = shop.subscribe(customer=customer)
    shop.standin.unavailable = True
    shop.standin.release_deliveries()
    shop.settle()
    shop.standin.unavailable = False
    assert shop.keys() == []
    about_it = [event for event in shop.db.exec(select(StripeEvent)).all()
                if event.type.startswith(("customer.subscription.", "invoice."))]
    assert about_it and all(event.done_at is None and event.last_error for event in about_it)
    failed = [d for d in shop.standin.deliveries if d["status"] == 503]
    assert failed
    for event in shop.stripe.events.list(params={"delivery_success": False}).to_dict()["data"]:
        shop.standin.redeliver(shop.secret_key, event["id"])
    shop.settle()
    assert len(shop.keys()) == 1 and _record(shop, subscription["id"]).key_written


def test_a_failed_write_back_is_finished_by_the_redelivery_without_a_second_key(shop, customer, monkeypatch):
    from portal.billing.gateway import Gateway, StripeUnavailable

    real = Gateway.update_subscription_metadata
    calls = []

    def fail_once(self, *args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise StripeUnavailable("the process died here")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Gateway, "update_subscription_metadata", fail_once)
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    key = shop.key()
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata.get("skm_key_id") == str(key.key_number) and "skm_temp_var" not in metadata
    assert len(calls) >= 2 and len(shop.keys()) == 1


def test_renewal_moves_the_expiry(shop, customer):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    before = shop.key().expires
    renewed = shop.standin.advance_subscription(shop.secret_key, subscription["id"], outcome="paid")
    shop.settle()
    key = shop.key()
    period_end = max(item["current_period_end"] for item in renewed["items"]["data"])
    assert key.expires > before and key.expires.timestamp() == period_end + 3 * 86400
    assert [e.action for e in events_for(shop.db, vendor_id=shop.vendor.id, subject_type="key",
                                          subject_id=key.id)][0] == "key.renewed"


def test_an_unpaid_renewal_blocks_after_the_grace_days_and_a_payment_unblocks(shop, customer):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    shop.standin.advance_subscription(shop.secret_key, subscription["id"], outcome="failed")
    shop.settle()
    record = _record(shop, subscription["id"])
    key = shop.key()
    # Stripe moved the subscription into its unpaid period; the key keeps the paid one's end plus 3 grace days.
    assert record.status == "past_due" and not key.block and key.expires < record.current_period_end
    assert key.renews_on is None

    with app_session(shop.app) as session:
        assert block_overdue_keys(session, now=key.expires - timedelta(hours=1)) == 0
        assert block_overdue_keys(session, now=key.expires + timedelta(seconds=1)) == 1
        session.commit()
    assert shop.key().block and _record(shop, subscription["id"]).blocked_for == "payment"

    invoice = shop.stripe.invoices.list(params={"subscription": subscription["id"]}).to_dict()["data"]
    open_invoice = next(i for i in invoice if i["status"] == "open")
    shop.stripe.invoices.pay(open_invoice["id"], params={"payment_method": "pm_card_visa"})
    shop.settle()
    key = shop.key()
    assert not key.block and key.renews_on is not None
    actions = [e.action for e in events_for(shop.db, vendor_id=shop.vendor.id, subject_type="key",
                                            subject_id=key.id)]
    assert "key.blocked" in actions and "key.unblocked" in actions
    # The failed payment is recorded as such, not as a renewal stopped (nothing was cancelled; the second reader).
    assert "key.renewal_unpaid" in actions and "key.renewal_stopped" not in actions


def test_a_cancelled_subscription_lets_the_key_run_by_default(shop, customer, vendor_client):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    expires = shop.key().expires
    shop.stripe.subscriptions.cancel(subscription["id"])
    shop.settle()
    key = shop.key()
    assert not key.block and key.expires == expires and key.renews_on is None
    assert _record(shop, subscription["id"]).status == "canceled"
    # Its history says the renewal stopped (it said "Renewed", the newcomer's try found).
    assert [e.action for e in events_for(shop.db, vendor_id=shop.vendor.id, subject_type="key",
                                          subject_id=key.id)][0] == "key.renewal_stopped"
    page = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert "Renewal stopped" in page and "Was paid for by a Stripe subscription" in page
    assert "it runs to its expiry" in page and "cancel the subscription" not in page


def test_a_cancelled_subscription_blocks_the_key_when_the_vendor_says_so(shop, customer):
    with app_session(shop.app) as session:
        policy = session.exec(select(StripeConnection)).one()
        policy.on_cancel = "block"
        session.add(policy)
        session.commit()
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    shop.stripe.subscriptions.cancel(subscription["id"])
    shop.settle()
    assert shop.key().block
    # The key page says the key is now the vendor's to change: unblocked by hand, it stays so through any later sync
    # of the ended subscription (a refresh, a reconcile, a redelivery), which blocked it again (the second reader).
    from portal.billing.events import settle
    from portal.keys.services import set_blocked

    with app_session(shop.app) as session:
        set_blocked(session, key=session.get(type(shop.key()), shop.key().id), blocked=False, actor="vendor")
        session.commit()
        connection = session.exec(select(StripeConnection)).one()
        gateway = shop.access.gateway(connection)
        settle(session, gateway, connection=connection, subscription=gateway.subscription(subscription["id"]),
               read_at=utcnow(), actor="refresh")
    shop.db.expire_all()
    assert not shop.key().block


def test_a_new_price_of_the_same_product_changes_the_features(shop, customer):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    item = subscription["items"]["data"][0]["id"]
    shop.stripe.subscriptions.update(subscription["id"], params={"items": [{"id": item, "price": shop.yearly}]})
    shop.settle()
    key = shop.key()
    assert (key.f1, key.f2, key.max_no_of_machines) == (True, True, 5)


def test_a_plan_of_another_product_gives_a_new_key_and_blocks_the_old(shop, customer, app):
    from portal.products.services import create_product
    from tests.billing.conftest import linked_prices

    with app_session(shop.app) as session:
        other = create_product(session, vendor_id=shop.vendor.id, actor="test", name="Other App")
        session.commit()
    other_monthly, _ = linked_prices(app, shop.vendor, other)
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    item = subscription["items"]["data"][0]["id"]
    shop.stripe.subscriptions.update(subscription["id"], params={"items": [{"id": item, "price": other_monthly}]})
    shop.settle()
    old, new = shop.keys()
    assert old.block and not new.block and new.product_id == other.id
    record = _record(shop, subscription["id"])
    assert record.key_id == new.id and record.key_written
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata["skm_key_globalid"] == str(new.id)


def test_a_price_not_linked_here_makes_no_key_and_says_why(shop, customer):
    product = shop.stripe.products.create(params={"name": "Elsewhere"})
    price = shop.stripe.prices.create(params={"product": product.id, "unit_amount": 500, "currency": "usd",
                                              "recurring": {"interval": "month"}})
    subscription = shop.subscribe(customer=customer, price=price.id)
    shop.settle()
    assert shop.keys() == []
    assert "not linked to a product here" in _record(shop, subscription["id"]).problem
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata["skm_temp_var"] == TEMP_VAR  # the failure stays visible in Stripe too


def test_a_trial_gives_a_key_until_the_trial_ends(shop, customer, portal_client, vendor):
    subscription = shop.subscribe(customer=customer, trial_period_days=14)
    shop.settle()
    key = shop.key()
    record = _record(shop, subscription["id"])
    assert record.status == "trialing"
    assert abs((key.renews_on - utcnow()) - timedelta(days=14)) < timedelta(minutes=5)
    # The card says it is a trial, as the subscriptions list does, beside the day it renews (the first payment's).
    card = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert f"until {record.current_period_end:%Y-%m-%d}, when the first payment is due" in card


def test_pasting_the_stripe_customer_id_into_the_customer_search_finds_the_customer(shop, customer, make,
                                                                                   other_vendor, vendor_client):
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    page = vendor_client.get("/vendor/customers/", query_string={"q": subscription["customer"]}).get_data(
        as_text=True)
    assert f"/vendor/customers/{customer.id}" in page
    # Another vendor's customer with the same Stripe id (another account) is not found.
    theirs = make.customer(other_vendor, name="Theirs")
    with app_session(shop.app) as session:
        session.add(StripeCustomer(vendor_id=other_vendor.id, customer_id=theirs.id, stripe_customer_id="cus_shared"))
        session.commit()
    page = vendor_client.get("/vendor/customers/", query_string={"q": "cus_shared"}).get_data(as_text=True)
    assert f"/vendor/customers/{theirs.id}" not in page


def test_a_subscription_that_names_an_existing_key_keeps_it(shop, customer, make):
    """Made by the vendor's own code (Cryptolens' custom interface) or carried over: `skm_key_globalid` names the
    key, which the subscription takes instead of making another."""
    existing = make.key(shop.product, customer=customer)
    stripe_customer = shop.stripe.customers.create(params={"metadata": {"skm_customer_id": str(customer.id)}})
    subscription = shop.stripe.subscriptions.create(params={
        "customer": stripe_customer.id, "items": [{"price": shop.monthly}],
        "metadata": {"skm_key_globalid": str(existing.id)}}).to_dict()
    shop.settle()
    assert [key.id for key in shop.keys()] == [existing.id]
    assert _record(shop, subscription["id"]).key_id == existing.id
    assert shop.key().renews_on is not None


@pytest.mark.parametrize("named_by", ["skm_key_id", "skm_key_globalid"])
def test_a_subscription_naming_another_customers_key_gets_its_own_and_theirs_is_left_alone(
        shop, customer, make, vendor, vendor_client, named_by):
    theirs = make.key(shop.product, customer=make.customer(vendor, name="Grace", email="grace@example.test"))
    expires = theirs.expires
    stripe_customer = shop.stripe.customers.create(params={"metadata": {"skm_customer_id": str(customer.id)}})
    subscription = shop.stripe.subscriptions.create(params={
        "customer": stripe_customer.id, "items": [{"price": shop.monthly}],
        "metadata": {named_by: str(theirs.key_number if named_by == "skm_key_id" else theirs.id)}}).to_dict()
    shop.settle()
    record = _record(shop, subscription["id"])
    assert record.key_id != theirs.id and shop.db.get(type(theirs), record.key_id).customer_id == customer.id
    shop.db.refresh(theirs)
    assert theirs.renews_on is None and theirs.expires == expires
    metadata = shop.stripe.subscriptions.retrieve(subscription["id"]).to_dict()["metadata"]
    assert metadata["skm_key_globalid"] == str(record.key_id)
    # The vendor can see why: the subscription's history says which key it named and did not take.
    trail = events_for(shop.db, vendor_id=vendor.id, subject_type="subscription", subject_id=record.id)
    assert any(event.action == "subscription.key_not_taken" for event in trail)
    page = vendor_client.get("/vendor/activity/", query_string={"action": "subscription.key_not_taken"})
    assert "Key named in Stripe not taken" in page.get_data(as_text=True)


def test_a_subscription_naming_a_key_of_no_customer_takes_it_for_the_subscriber(shop, customer, make):
    unsold = make.key(shop.product)
    stripe_customer = shop.stripe.customers.create(params={"metadata": {"skm_customer_id": str(customer.id)}})
    subscription = shop.stripe.subscriptions.create(params={
        "customer": stripe_customer.id, "items": [{"price": shop.monthly}],
        "metadata": {"skm_key_id": str(unsold.key_number)}}).to_dict()
    shop.settle()
    assert _record(shop, subscription["id"]).key_id == unsold.id
    shop.db.refresh(unsold)
    assert unsold.customer_id == customer.id and unsold.renews_on is not None  # in the subscriber's portal now
    trail = events_for(shop.db, vendor_id=shop.vendor.id, subject_type="key", subject_id=unsold.id)
    assert "key.customer_changed" in [event.action for event in trail]


def test_a_price_with_many_settings_it_cannot_read_still_makes_the_key_and_says_so_briefly(shop, customer):
    # Cryptolens' CreateKey takes more parameters than a subscription's key needs; a price may carry them all.
    extra = {name: "x" for name in ("Period", "Block", "NoOfKeys", "Name", "Email", "CompanyName",
                                    "NewCustomer", "AddOrUseExistingCustomer", "TrialActivation",
                                    "EnableCustomerAssociation", "AllowActivationManagement")}
    extra |= {f"VendorOwnSetting{n}": n for n in range(10)}
    skm = json.dumps({"F1": True, "MaxNoOfMachines": 4, **extra})
    shop.stripe.prices.update(shop.monthly, params={"metadata": {"skm": skm}})
    subscription = shop.subscribe(customer=customer)
    shop.settle()
    key = shop.key()
    assert (key.f1, key.max_no_of_machines) == (True, 4)
    problem = _record(shop, subscription["id"]).problem
    assert len(problem) <= 500 and problem.startswith("The price's skm metadata: ") and " more." in problem


def test_a_trial_cancelled_at_its_end_does_not_say_a_payment_is_due(shop, customer, portal_client, vendor):
    subscription = shop.subscribe(customer=customer, trial_period_days=14)
    shop.settle()
    shop.stripe.subscriptions.update(subscription["id"], params={"cancel_at_period_end": True})
    shop.settle()
    card = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    listing = portal_client.get(f"/Portal/@{vendor.slug}/Subscriptions").get_data(as_text=True)
    assert "Cancels on" in listing
    assert "when the first payment is due" not in card, "the card promises a charge the list says will not come"

