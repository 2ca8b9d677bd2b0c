import json
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.keys import managed, services, sweep
from portal.models import ActivatedMachine, AuditEvent, LicenseKey, utcnow
from tests.support.pages import post_form

KEY_SHAPE = r"^[A-Z]{5}-[A-Z]{5}-[A-Z]{5}-[A-Z]{5}$"


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, f1_name="Pro", f2_name="Export")


def test_create_key_for_a_customer_from_the_form(vendor_client, product, customer, db):
    page = f"/vendor/keys/new?product={product.id}&customer={customer.id}"
    form = vendor_client.get(page).get_data(as_text=True)
    assert "Pro" in form and "Export" in form and 'value="' + str(customer.id) + '" checked' in form
    response = post_form(vendor_client, "/vendor/keys/new", {
        "product_id": product.id, "customer_id": customer.id, "period": "30", "f1": "y", "notes": "first",
        "max_no_of_machines": "2"}, page=page)
    key = db.exec(select(LicenseKey)).one()
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/keys/{key.id}"
    assert (key.key_number, key.customer_id, key.f1, key.f2, key.notes, key.max_no_of_machines) == (
        1, customer.id, True, False, "first", 2)
    assert key.expires - key.created == timedelta(days=30)
    assert key.expires.tzinfo is not None
    import re
    assert re.match(KEY_SHAPE, key.key)
    shown = vendor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert key.key in shown and "Pro" in shown and "Key created" in shown
    customer_page = vendor_client.get(f"/vendor/customers/{customer.id}").get_data(as_text=True)
    assert key.key in customer_page and "Key created" in customer_page


def test_explicit_expiry_date(vendor_client, product, db):
    day = (utcnow() + timedelta(days=100)).date()
    response = post_form(vendor_client, "/vendor/keys/new", {"product_id": product.id, "customer_id": "",
                                                            "period": "", "expires": day.isoformat()},
                         page="/vendor/keys/new")
    key = db.exec(select(LicenseKey)).one()
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/keys/{key.id}"
    assert key.expires.date() == day and key.customer_id is None
    assert key.period == 100  # whole days to the end of that day


def test_a_period_of_0_is_taken_beside_an_expiry_date_which_takes_its_place(vendor_client, product, db):
    from datetime import date, timedelta

    day = date.today() + timedelta(days=10)
    response = post_form(vendor_client, "/vendor/keys/new", {"product_id": product.id, "customer_id": "",
                                                            "period": "0", "expires": day.isoformat()},
                         page="/vendor/keys/new")
    assert response.status_code == 303 and db.exec(select(LicenseKey)).one().expires.date() == day


@pytest.mark.parametrize(("data", "field"), [
    ({"period": "", "expires": ""}, "period"),
    ({"period": "-1"}, "period"),
    ({"period": "0"}, "period"),  # expired as it is made (the newcomer's try)
    ({"period": "abc"}, "period"),
    ({"expires": "2001-01-01", "period": ""}, "expires"),
    ({"notes": "x" * 151}, "notes"),
    ({"max_no_of_machines": "-3"}, "max_no_of_machines"),
    ({"customer_id": "999999"}, "customer_id"),
    ({"customer_id": "abc"}, "customer_id"),
])
def test_bad_key_input_is_refused_and_nothing_stored(vendor_client, product, db, data, field):
    base = {"product_id": product.id, "customer_id": "", "period": "30"}
    response = post_form(vendor_client, "/vendor/keys/new", base | data, page="/vendor/keys/new")
    assert response.status_code == 422
    assert "field-error" in response.get_data(as_text=True)
    assert db.exec(select(LicenseKey)).all() == []


def test_other_vendors_customer_cannot_get_a_key(vendor_client, product, make, other_vendor, db):
    foreign = make.customer(other_vendor)
    response = post_form(vendor_client, "/vendor/keys/new", {"product_id": product.id, "customer_id": foreign.id,
                                                            "period": "30"}, page="/vendor/keys/new")
    assert response.status_code == 422 and db.exec(select(LicenseKey)).all() == []


def test_other_vendors_product_is_not_a_choice(vendor_client, make, other_vendor, product, db):
    foreign = make.product(other_vendor, name="Foreign")
    response = post_form(vendor_client, "/vendor/keys/new", {"product_id": foreign.id, "period": "30"},
                         page="/vendor/keys/new")
    assert response.status_code == 422 and db.exec(select(LicenseKey)).all() == []


def test_ids_count_per_product(make, vendor, product):
    other = make.product(vendor, name="Other")
    numbers = [make.key(product).key_number, make.key(product).key_number, make.key(other).key_number]
    assert numbers == [1, 2, 1]


def test_key_page_actions_are_audited(vendor_client, make, product, customer, db):
    key = make.key(product, customer=customer, machines=("m-1",))
    page = f"/vendor/keys/{key.id}"
    response = post_form(vendor_client, f"{page}/block", {"block": "1"}, page=page)
    assert response.status_code == 303 and response.headers["Location"] == page
    assert db.get(LicenseKey, key.id).block
    post_form(vendor_client, f"{page}/block", {"block": "0"}, page=page)
    post_form(vendor_client, f"{page}/block", {"block": "0"}, page=page)  # unblocked already: no change
    expires = db.get(LicenseKey, key.id).expires
    post_form(vendor_client, f"{page}/extend", {"days": "10"}, page=page)
    assert db.get(LicenseKey, key.id).expires == expires + timedelta(days=10)
    post_form(vendor_client, f"{page}/details", {"notes": "changed", "f2": "y", "max_no_of_machines": "4"},
              page=page)
    stored = db.get(LicenseKey, key.id)
    assert (stored.notes, stored.f1, stored.f2, stored.max_no_of_machines) == ("changed", False, True, 4)
    post_form(vendor_client, f"{page}/customer", {"customer_id": ""}, page=page)
    assert db.get(LicenseKey, key.id).customer_id is None
    machine = db.exec(select(ActivatedMachine)).one()
    post_form(vendor_client, f"{page}/machines/{machine.id}/deactivate", {}, page=page)
    assert db.exec(select(ActivatedMachine)).all() == []
    actions = [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.subject_type == "key")
                                         .order_by(AuditEvent.id))]
    assert actions == ["key.created", "key.machine_activated", "key.blocked", "key.unblocked", "key.extended",
                       "key.changed", "key.customer_changed", "key.machine_deactivated"]
    assert [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.subject_type == "customer",
                                                               AuditEvent.action.startswith("key.")))] == [
        "key.created", "key.machine_activated", "key.blocked", "key.unblocked", "key.extended", "key.changed",
        "key.customer_changed"]  # the key's changes while it was the customer's, and nothing more
    blocked = db.exec(select(AuditEvent).where(AuditEvent.action == "key.blocked",
                                               AuditEvent.subject_type == "key")).one()
    assert json.loads(blocked.before) == {"block": False} and json.loads(blocked.after) == {"block": True}
    history = vendor_client.get(f"/vendor/customers/{customer.id}").get_data(as_text=True)
    assert "Key&#39;s customer changed" in history


def test_bad_extension_is_refused(vendor_client, make, product, db):
    key = make.key(product)
    response = post_form(vendor_client, f"/vendor/keys/{key.id}/extend", {"days": "0"}, page=f"/vendor/keys/{key.id}")
    assert response.status_code == 422 and 'id="days-error"' in response.get_data(as_text=True)
    assert "Extending by 0 days changes nothing" in response.get_data(as_text=True)


def test_delete_key_asks_first(vendor_client, make, product, db):
    key = make.key(product, machines=("m-1",))
    key_id = key.id
    assert "1 machine" in vendor_client.get(f"/vendor/keys/{key_id}/delete").get_data(as_text=True)
    response = post_form(vendor_client, f"/vendor/keys/{key_id}/delete", {})
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/products/{product.id}"
    assert db.get(LicenseKey, key_id) is None and db.exec(select(ActivatedMachine)).all() == []


def test_a_key_a_running_stripe_subscription_pays_for_is_not_deleted(vendor_client, make, vendor, product, db):
    """As a product or a customer is not: Stripe would go on charging the subscriber for a key that is gone. The
    delete page says so instead of offering the button; once the subscription has ended the key can go."""
    from portal.billing_models import Subscription

    key = make.key(product)
    key_id = key.id
    paid = Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_paid", key_id=key_id, status="active")
    db.add(paid)
    db.commit()
    page = vendor_client.get(f"/vendor/keys/{key_id}/delete").get_data(as_text=True)
    assert "Its customer pays for the Stripe subscription sub_paid,\n    which has not ended" in page
    assert "Delete key</button>" not in page
    refused = post_form(vendor_client, f"/vendor/keys/{key_id}/delete", {}, follow_redirects=True)
    assert "(sub_paid): cancel it in Stripe first, then delete the key." in refused.get_data(as_text=True)
    db.expire_all()
    assert db.get(LicenseKey, key_id) is not None
    paid = db.get(Subscription, paid.id)
    paid.status = "canceled"
    db.add(paid)
    db.commit()
    answer = post_form(vendor_client, f"/vendor/keys/{key_id}/delete", {})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/vendor/products/{product.id}"
    db.expire_all()
    assert db.get(LicenseKey, key_id) is None


def test_machine_limits(make, product, vendor, db):
    customer = make.customer(vendor, max_no_of_devices=2)
    one = make.key(product, customer=customer, max_no_of_machines=2, machines=("a", "b"))
    two = make.key(product, customer=customer, machines=("a",))
    with pytest.raises(services.DomainError, match="the limit has been reached"):
        services.activate_machine(db, key=one, mid="c")
    services.activate_machine(db, key=two, mid="b")  # a known device of the customer
    with pytest.raises(services.DomainError, match="as many devices"):
        services.activate_machine(db, key=two, mid="c")
    db.rollback()
    assert services.devices_of_customer(db, customer_id=customer.id) == 2


def _block_expired_keys_of(vendor, db) -> None:
    """The vendor turns "block expired keys" on."""
    from portal.models import Vendor

    stored = db.get(Vendor, vendor.id)
    stored.block_expired_keys = True
    db.add(stored)
    db.commit()


def test_expiry_sweep_blocks_only_expired_keys_of_opted_in_vendors(make, vendor, other_vendor, product, db):
    from portal.dataobjects import services as dataobjects

    expired = make.key(product, period=0)
    fresh = make.key(product, period=30)
    stripe = make.key(product, period=0)
    dataobjects.add_object(db, vendor_id=vendor.id, name=managed.STRIPE_MANAGED, string_value="si_1",
                           referencer_type=dataobjects.KEY, referencer_id=stripe.id, actor="test")
    elsewhere = make.key(make.product(other_vendor), period=0)
    _block_expired_keys_of(vendor, db)
    assert sweep.block_expired_keys(db, now=utcnow() + timedelta(seconds=1)) == 1
    db.commit()
    blocked = {k.id for k in db.exec(select(LicenseKey).where(LicenseKey.block.is_(True)))}
    assert blocked == {expired.id}
    assert fresh.id not in blocked and stripe.id not in blocked and elsewhere.id not in blocked
    from portal.audit import events_for

    last = events_for(db, vendor_id=vendor.id, subject_type="key", subject_id=expired.id)[0]
    assert (last.action, last.actor, last.ip) == ("key.blocked_expired", "system: expiry sweep", "")


def test_expiry_sweep_blocks_a_key_at_the_instant_its_page_says_expired(make, vendor, product, db):
    from portal.keys.status import status_of

    key = make.key(product, period=30)
    _block_expired_keys_of(vendor, db)
    at = db.get(LicenseKey, key.id).expires
    assert sweep.block_expired_keys(db, now=at - timedelta(microseconds=1)) == 0
    assert status_of(db.get(LicenseKey, key.id), at) == "expired"
    assert sweep.block_expired_keys(db, now=at) == 1


def test_extending_past_the_year_9999_is_refused(vendor_client, make, product, db):
    from datetime import UTC, datetime

    key = make.key(product)
    key.expires = datetime(9999, 12, 30, tzinfo=UTC)
    db.add(key)
    db.commit()
    response = post_form(vendor_client, f"/vendor/keys/{key.id}/extend", {"days": "5"}, page=f"/vendor/keys/{key.id}")
    assert response.status_code == 422 and "9999" in response.get_data(as_text=True)


def test_shortening_to_before_the_keys_creation_is_refused_and_as_far_as_that_is_taken(vendor_client, make, product,
                                                                                        db):
    """The newcomer's try: -5000 days moved a key made today to 2016, its period to 0."""
    from datetime import timedelta

    key = make.key(product)  # made now, expiring in its 30 days
    page, expires = f"/vendor/keys/{key.id}", key.expires
    response = post_form(vendor_client, f"{page}/extend", {"days": "-5000"}, page=page)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and "before it was created" in text and "at most 30 days" in text
    db.expire_all()
    assert db.get(type(key), key.id).expires == expires
    assert post_form(vendor_client, f"{page}/extend", {"days": "-30"}, page=page).status_code == 303
    db.expire_all()
    assert db.get(type(key), key.id).expires == expires - timedelta(days=30)


@pytest.mark.parametrize("setting, unblocked", [("true", True), (" TRUE ", True), (None, False)])
def test_extending_a_blocked_key_unblocks_it_where_the_product_says_so(vendor_client, make, vendor, product, db,
                                                                       setting, unblocked):
    """Cryptolens' product configuration `cryptolens_unblockextendedlicenses` = `true`: an extension, from the key
    page as from key/ExtendLicense (the same service), unblocks a blocked key; the audit trail shows both changes."""
    from portal.dataobjects.services import PRODUCT, add_object

    if setting is not None:
        add_object(db, vendor_id=vendor.id, name="cryptolens_unblockextendedlicenses", string_value=setting,
                   referencer_type=PRODUCT, referencer_id=product.id, actor="test")
    key = make.key(product)
    services.set_blocked(db, key=key, blocked=True, actor="test")
    db.commit()
    page = f"/vendor/keys/{key.id}"
    assert ("Lengthening it also unblocks it" in vendor_client.get(page).get_data(as_text=True)) is unblocked
    assert post_form(vendor_client, f"{page}/extend", {"days": "-1"}, page=page).status_code == 303
    db.expire_all()
    assert db.get(LicenseKey, key.id).block  # shortening unblocks nothing
    answer = post_form(vendor_client, f"{page}/extend", {"days": "30"}, page=page, follow_redirects=True)
    assert ("Expiry and period changed; the key is unblocked." in answer.get_data(as_text=True)) is unblocked
    db.expire_all()
    assert db.get(LicenseKey, key.id).block is not unblocked
    extended = db.exec(select(AuditEvent).where(AuditEvent.action == "key.extended")
                       .order_by(AuditEvent.id.desc())).first()
    assert ("block" in json.loads(extended.after)) is unblocked


def test_a_products_data_objects_form_names_the_product_configurations(vendor_client, product):
    page = vendor_client.get(f"/vendor/data-objects/product/{product.id}").get_data(as_text=True)
    assert "cryptolens_trialactivation" in page and "cryptolens_unblockextendedlicenses" in page
    assert "cryptolens_unblockextendedlicenses" not in vendor_client.get("/vendor/data-objects/").get_data(as_text=True)


def test_an_extension_leaves_blocked_a_key_its_stripe_subscription_blocked(vendor_client, make, vendor, product, db):
    """The subscription's next payment unblocks that key; an extension by hand would leave the two disagreeing."""
    from portal.billing_models import Subscription
    from portal.dataobjects.services import PRODUCT, add_object

    add_object(db, vendor_id=vendor.id, name="cryptolens_unblockextendedlicenses", string_value="true",
               referencer_type=PRODUCT, referencer_id=product.id, actor="test")
    key = make.key(product)
    services.set_blocked(db, key=key, blocked=True, actor="stripe")
    db.add(Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_1", key_id=key.id, blocked_for="payment"))
    db.commit()
    page = f"/vendor/keys/{key.id}"
    assert post_form(vendor_client, f"{page}/extend", {"days": "30"}, page=page).status_code == 303
    db.expire_all()
    assert db.get(LicenseKey, key.id).block


@pytest.mark.parametrize("name, text, says", [
    ("cryptolens_trialactivation", "first activation", "does something only with the text first_activation"),
    ("cryptolens_unblockextendedlicenses", "yes", "does something only with the text true"),
])
def test_a_product_configuration_with_a_text_it_ignores_is_refused(vendor_client, product, db, name, text, says):
    from portal.models import DataObject

    page = f"/vendor/data-objects/product/{product.id}"
    answer = post_form(vendor_client, page, {"name": name, "string_value": text, "int_value": "0"})
    assert answer.status_code == 422 and says in answer.get_data(as_text=True)
    assert db.exec(select(DataObject)).all() == []
