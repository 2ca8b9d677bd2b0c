import html
from datetime import timedelta

import pytest
from sqlmodel import select

from portal.models import ActivatedMachine, Customer, Vendor
from tests.support.pages import post_form


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, name="Demo App", f1_name="Pro", f2_name="Export")


def dashboard(client, vendor) -> str:
    response = client.get(f"/Portal/@{vendor.slug}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_dashboard_lists_the_customers_licenses_masked(portal_client, make, vendor, customer, product):
    key = make.key(product, customer=customer, f1=True, max_no_of_machines=3, machines=("m-1",))
    make.key(product)  # nobody's
    page = dashboard(portal_client, vendor)
    first, *_, last = key.key.split("-")
    assert f"{first}-•••••-•••••-{last}" in html.unescape(page) and key.key not in page
    assert "Demo App" in page and ">Pro<" in page and "1 of 3" in page and "Active" in page


@pytest.mark.parametrize(("settings", "status"), [
    ({"period": 100}, "Active"),
    ({"period": 5}, "Expires within 14 days"),
    ({"period": 0}, "Expired"),
    ({"period": 100, "block": True}, "Blocked"),
])
def test_status_in_words(portal_client, make, vendor, customer, product, db, settings, status):
    block = settings.pop("block", False)
    key = make.key(product, customer=customer, **settings)
    if block or settings["period"] == 0:
        key.block = block
        key.expires = key.expires - timedelta(seconds=1) if not block else key.expires
        db.add(key)
        db.commit()
    assert status in dashboard(portal_client, vendor)


def test_a_blocked_or_expired_license_says_who_to_ask(portal_client, make, vendor, customer, product, db):
    blocked = make.key(product, customer=customer, machines=("m-1",))
    blocked.block = True
    expired = make.key(product, customer=customer)
    expired.expires -= timedelta(days=31)
    db.add_all([blocked, expired])
    db.commit()
    page = html.unescape(dashboard(portal_client, vendor))
    assert f"This license is blocked: the software does not accept it. To know why, ask {vendor.name}." in page
    assert f"This license has expired. To renew it, ask {vendor.name}." in page
    assert f"To move this license to another machine, ask {vendor.name}." in page  # machines are the vendor's

    stored = db.get(Vendor, vendor.id)
    stored.support_contact = "help@acme.example"
    db.add(stored)
    allow_management(db, customer)
    page = html.unescape(dashboard(portal_client, vendor))
    assert (f'To renew it, ask {vendor.name} at <a href="mailto:help@acme.example">help@acme.example</a>.'
            in page)
    assert "To move this license to another machine" not in page


def test_reveal_shows_the_full_key_only_to_its_customer(portal_client, app, make, vendor, customer, product):
    key = make.key(product, customer=customer)
    response = portal_client.get(f"/Portal/@{vendor.slug}/Licenses/{key.id}/Key", headers={"HX-Request": "true"})
    assert response.status_code == 200 and key.key in response.get_data(as_text=True)
    other = make.key(product, customer=make.customer(vendor, name="Someone else"))
    assert portal_client.get(f"/Portal/@{vendor.slug}/Licenses/{other.id}/Key").status_code == 404
    assert other.key not in dashboard(portal_client, vendor)


def allow_management(db, customer, allowed=True):
    stored = db.get(Customer, customer.id)
    stored.allow_activation_management = allowed
    db.add(stored)
    db.commit()


def test_customer_deactivates_a_machine_when_allowed(portal_client, make, vendor, customer, product, db):
    allow_management(db, customer)
    key = make.key(product, customer=customer, machines=("m-1", "m-2"))
    machine = db.exec(select(ActivatedMachine).where(ActivatedMachine.mid == "m-1")).one()
    page = dashboard(portal_client, vendor)
    assert "Deactivate" in page
    url = f"/Portal/@{vendor.slug}/Licenses/{key.id}/Machines/{machine.id}/Deactivate"
    response = post_form(portal_client, url, {}, page=f"/Portal/@{vendor.slug}/",
                         headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "Machine m-1 deactivated." in fragment and fragment.count("Machine m-1") == 1
    assert "Machine m-2" in fragment and "1 (no limit)" in fragment
    assert [m.mid for m in db.exec(select(ActivatedMachine))] == ["m-2"]


def test_without_permission_the_button_is_absent_and_the_endpoint_refuses(portal_client, make, vendor, customer,
                                                                          product, db):
    allow_management(db, customer, allowed=False)
    key = make.key(product, customer=customer, machines=("m-1",))
    machine = db.exec(select(ActivatedMachine)).one()
    assert "Deactivate" not in dashboard(portal_client, vendor)
    url = f"/Portal/@{vendor.slug}/Licenses/{key.id}/Machines/{machine.id}/Deactivate"
    assert post_form(portal_client, url, {}, page=f"/Portal/@{vendor.slug}/").status_code == 403
    assert len(db.exec(select(ActivatedMachine)).all()) == 1


def test_another_customers_machine_is_not_found(portal_client, make, vendor, customer, product, db):
    allow_management(db, customer)
    other = make.key(product, customer=make.customer(vendor, name="Other"), machines=("theirs",))
    machine = db.exec(select(ActivatedMachine)).one()
    url = f"/Portal/@{vendor.slug}/Licenses/{other.id}/Machines/{machine.id}/Deactivate"
    assert post_form(portal_client, url, {}, page=f"/Portal/@{vendor.slug}/").status_code == 404
    own = make.key(product, customer=customer)
    url = f"/Portal/@{vendor.slug}/Licenses/{own.id}/Machines/{machine.id}/Deactivate"
    assert post_form(portal_client, url, {}, page=f"/Portal/@{vendor.slug}/").status_code == 404
    assert len(db.exec(select(ActivatedMachine)).all()) == 1


def test_device_limit_is_shown(portal_client, make, vendor, customer, product, db):
    stored = db.get(Customer, customer.id)
    stored.max_no_of_devices = 3
    db.add(stored)
    db.commit()
    make.key(product, customer=customer, machines=("a", "b"))
    make.key(product, customer=customer, machines=("a",))
    assert "Devices in use: 2 of 3" in dashboard(portal_client, vendor)


def test_a_card_changes_as_soon_as_what_it_shows_changes(portal_client, make, vendor, customer, product, db):
    """Cards are cached per process by what they show: every change of the key, product or machines shows."""
    from portal.keys import services as keys
    from portal.products.services import update_product

    key = make.key(product, customer=customer, machines=("m-1",))
    assert "Active" in dashboard(portal_client, vendor) and ">Machine m-1<" not in dashboard(portal_client, vendor)
    keys.activate_machine(db, key=key, mid="m-2", friendly_name="Laptop", actor="test")
    keys.set_blocked(db, key=key, blocked=True, actor="test")
    db.commit()
    page = dashboard(portal_client, vendor)
    assert "Blocked" in page and "Active" not in page and "Laptop" in page
    customer = db.get(Customer, customer.id)
    customer.allow_activation_management = not customer.allow_activation_management
    db.add(customer)
    db.commit()
    assert ("Deactivate" in dashboard(portal_client, vendor)) == customer.allow_activation_management
    update_product(db, product=product, name="Renamed App", actor="test")
    db.commit()
    assert "Renamed App" in dashboard(portal_client, vendor)


def test_each_button_of_a_card_names_what_it_acts_on(portal_client, make, vendor, customer, product, db):
    """Two keys of one product are told apart by the ends the card shows; a Deactivate names its machine."""
    from portal.keys import services as keys

    allow_management(db, customer)
    first, second = make.key(product, customer=customer), make.key(product, customer=customer)
    keys.activate_machine(db, key=first, mid="m-code-1", actor="test")  # no friendly name: the code names it
    keys.activate_machine(db, key=second, mid="m-code-2", friendly_name="Ada's laptop", actor="test")
    db.commit()
    page = html.unescape(dashboard(portal_client, vendor))
    for key in (first, second):
        parts = key.key.split("-")
        assert f'aria-label="Reveal the key of Demo App, {parts[0]}-…-{parts[-1]}"' in page
    assert 'aria-label="Deactivate m-code-1"' in page and 'aria-label="Deactivate Ada\'s laptop"' in page


def test_a_subscription_that_gives_no_reason_is_not_said_to_end():
    """The second reader: a paused subscription, or an active one of a Stripe account the vendor switched away from,
    has a key without a renewal day and was said to end on its period's end."""
    from datetime import UTC, datetime

    from portal.licenses.services import PaidBy

    end, expires = datetime(2027, 1, 4, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC)
    assert PaidBy("paused", False, end).why_not_renewing(expires) is None
    assert PaidBy("active", False, end).why_not_renewing(expires) is None
    assert PaidBy("active", True, end).why_not_renewing(expires) == "its subscription ends on 2027-01-04"


def test_an_expired_subscription_key_says_what_to_do_once(portal_client, make, vendor, customer, product, db):
    """A key whose renewal payment failed and whose grace days have run out: the card says so beside its expiry
    (update the card), not also "ask the vendor" (a reader of the session's changes)."""
    from portal.billing_models import Subscription

    key = make.key(product, customer=customer, period=0)
    key.expires = key.expires - timedelta(seconds=1)
    db.add(key)
    db.add(Subscription(vendor_id=vendor.id, stripe_subscription_id="sub_late", customer_id=customer.id,
                        key_id=key.id, status="past_due", current_period_end=key.expires))
    db.commit()
    page = html.unescape(dashboard(portal_client, vendor))
    assert "This license has expired." in page and "To renew it, ask" not in page
    assert "(not renewing: its subscription's last payment failed; update your card under Manage billing)" in page


def test_a_renewal_that_also_stops_the_next_one_is_recorded_as_a_renewal(make, vendor, product, db):
    """One sync can move the expiry on and take the renewal day away (a missed renewal caught up with, cancelled
    at its end): the later expiry is what the history must show first."""
    from portal.audit import events_for
    from portal.keys import services as keys
    from portal.models import utcnow

    key = make.key(product)
    keys.renew_key(db, key=key, expires=key.expires, renews_on=utcnow(), actor="stripe")
    keys.renew_key(db, key=key, expires=key.expires + timedelta(days=30), renews_on=None, actor="stripe")
    keys.renew_key(db, key=key, expires=key.expires, renews_on=None, actor="stripe")  # unchanged: nothing
    keys.renew_key(db, key=key, expires=key.expires, renews_on=utcnow(), actor="stripe")
    keys.renew_key(db, key=key, expires=key.expires, renews_on=None, actor="stripe")
    keys.renew_key(db, key=key, expires=key.expires - timedelta(days=20), renews_on=utcnow(), actor="stripe")
    db.commit()
    actions = [e.action for e in events_for(db, vendor_id=vendor.id, subject_type="key", subject_id=key.id)]
    # A renewal day that comes back (a resumed subscription) with no later expiry is no renewal: no payment came.
    # An earlier expiry (a yearly plan switched to a monthly one) is a changed expiry, not a renewal.
    assert actions[:5] == ["key.extended", "key.renewal_stopped", "key.renewal_set", "key.renewed", "key.renewal_set"]
