"""Cryptolens' trial activation, "start countdown upon activation": a key made ahead of time runs its period from
each new machine's activation (up to its machine limit), through the Web API as through the portal's services."""

import base64
import json
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from portal.keys import services as keys
from portal.keys import sweep
from portal.keys.find import find_keys
from portal.keys.reminders import due_for_reminder
from portal.keys.status import status_of
from portal.models import AuditEvent, DataObject, LicenseKey, Vendor, utcnow
from tests.support.pages import post_form


def _made_ahead(make, product, *, machines: int = 2, days_ago: int = 60, **settings) -> LicenseKey:
    """A 30-day key made `days_ago` days ago (so expired), counting down from activation."""
    key = make.key(product, period=30, trial_activation=True, max_no_of_machines=machines, **settings)
    _set_expiry(make.session, key, utcnow() - timedelta(days=days_ago - 30))
    return key


def _set_expiry(session, key, expires) -> None:
    session.execute(update(LicenseKey).where(LicenseKey.id == key.id).values(expires=expires))
    session.commit()
    session.expire_all()


def _activate(api, token, product, key, mid):
    status, answer = api.post("key/Activate", token=token, ProductId=product.id, Key=key.key, MachineCode=mid,
                              Sign="True")
    shown = json.loads(base64.b64decode(answer["licenseKey"])) if answer["result"] == 0 else None
    return status, answer, shown


def test_the_first_activation_starts_the_period_and_the_signed_answer_says_so(api, make, vendor, product, db):
    key = _made_ahead(make, product)
    token = api.token(vendor)
    before = utcnow()
    status, answer, shown = _activate(api, token, product, key, "m-1")
    assert (status, answer["result"]) == (200, 0), answer
    key = db.get(LicenseKey, key.id)
    assert before + timedelta(days=30) <= key.expires <= utcnow() + timedelta(days=30)
    assert shown["Expires"] == int(key.expires.timestamp())  # the answer is read after the countdown moved it
    (started,) = db.exec(select(AuditEvent).where(AuditEvent.action == "key.countdown_started",
                                                  AuditEvent.subject_type == "key")).all()
    assert started.actor == api.actor() and "expires" in started.after
    # Activated again at once: nothing moves.
    assert _activate(api, token, product, key, "m-1")[2]["Expires"] == shown["Expires"]


def test_each_new_machine_restarts_it_until_the_limit_then_the_key_expires_like_any(api, make, vendor, product, db):
    key = _made_ahead(make, product, machines=2)
    token = api.token(vendor)
    assert _activate(api, token, product, key, "m-1")[1]["result"] == 0
    _set_expiry(db, key, utcnow() - timedelta(days=1))  # m-1's 30 days are over
    status, answer, _shown = _activate(api, token, product, key, "m-1")
    assert (status, answer["message"]) == (400, "The key has expired.")  # a known machine starts nothing
    assert _activate(api, token, product, key, "m-2")[1]["result"] == 0  # a new one does
    assert db.get(LicenseKey, key.id).expires > utcnow() + timedelta(days=29)
    _set_expiry(db, key, utcnow() - timedelta(days=1))
    assert _activate(api, token, product, key, "m-3")[1]["message"] == "The key has expired."  # both machines in
    assert _activate(api, token, product, key, "m-2")[1]["message"] == "The key has expired."


def test_a_longer_expiry_is_never_shortened_and_no_machine_limit_means_no_countdown(make, vendor, product, db):
    later = utcnow() + timedelta(days=90)
    key = make.key(product, period=30, trial_activation=True, max_no_of_machines=1)
    _set_expiry(db, key, later)
    keys.activate_machine(db, key=key, mid="m-1", actor="test")
    assert db.get(LicenseKey, key.id).expires == later
    unlimited = make.key(product, period=30, trial_activation=True, max_no_of_machines=0)
    _set_expiry(db, unlimited, utcnow() - timedelta(days=1))
    with pytest.raises(keys.DomainError, match="The key has expired."):
        keys.activate_machine(db, key=unlimited, mid="m-1", actor="test")


def test_the_sweep_and_the_reminder_leave_a_key_waiting_for_its_machines(app, make, vendor, product, customer, db):
    owner = db.get(Vendor, vendor.id)
    owner.block_expired_keys, owner.remind_days_before_expiry = True, 30
    db.commit()
    waiting = _made_ahead(make, product, machines=1, customer=customer)
    soon = make.key(product, period=30, trial_activation=True, max_no_of_machines=1, customer=customer)
    _set_expiry(db, soon, utcnow() + timedelta(days=3))  # not yet started either: no reminder
    plain = make.key(product, period=30, customer=customer)
    _set_expiry(db, plain, utcnow() - timedelta(days=1))
    assert db.exec(select(LicenseKey.id).where(*due_for_reminder(owner, utcnow()))).all() == []
    assert sweep.block_expired_keys(db) == 1
    db.commit()
    assert [k.id for k in db.exec(select(LicenseKey).where(LicenseKey.block.is_(True)))] == [plain.id]

    keys.activate_machine(db, key=db.get(LicenseKey, waiting.id), mid="m-1", actor="test")  # started: 30 days
    db.commit()
    _set_expiry(db, waiting, utcnow() - timedelta(days=1))
    assert sweep.block_expired_keys(db) == 1  # its machine is in: blocked at expiry like any key
    db.commit()
    assert db.get(LicenseKey, waiting.id).block


def test_the_vendor_and_the_customer_see_a_key_made_ahead_as_starting_at_activation(
        vendor_client, portal_client, make, vendor, product, customer):
    key = _made_ahead(make, product, machines=1, customer=customer)
    page = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert "Start countdown upon activation" in page and "runs from each new machine&#39;s activation" in page
    assert "Countdown from activation</dt><dd>yes" in page
    assert 'status-waiting">Starts at activation<' in page and 'status-expired"' not in page
    assert "Start countdown upon activation" in vendor_client.get("/vendor/keys/new").get_data(as_text=True)
    card = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert 'status-waiting">Starts at activation<' in card
    products = vendor_client.get(f"/vendor/products/{product.id}").get_data(as_text=True)
    assert 'status-waiting">Starts at activation<' in products
    (found,) = find_keys(make.session, vendor_id=vendor.id, text=key.key)  # the rows of the navigation's lookup
    assert status_of(found, utcnow()) == "waiting"

    keys.activate_machine(make.session, key=make.session.get(LicenseKey, key.id), mid="m-1", actor="test")
    make.session.commit()
    _set_expiry(make.session, key, utcnow() - timedelta(days=1))  # started, then run out: expired like any key
    assert 'status-expired">Expired<' in vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)


def test_a_trial_key_activated_as_it_is_made_records_no_countdown(api, vendor, product, db):
    status, answer = api.post("key/CreateTrialKey", token=api.token(vendor), ProductId=product.id, MachineCode="m")
    assert (status, answer["result"]) == (200, 0)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "key.countdown_started")).all() == []


def test_freeing_a_slot_or_a_floating_activation_starts_nothing(api, make, vendor, product, db):
    """Over its life a key is started by at most its machine limit of machines: a deactivated machine still counts,
    and a floating activation (a slot held for a while, not a machine) starts nothing."""
    token = api.token(vendor)
    key = _made_ahead(make, product, machines=1)
    assert api.post("key/Activate", token=token, ProductId=product.id, Key=key.key, MachineCode="f",
                    FloatingTimeInterval=60)[1]["message"] == "The key has expired."
    assert _activate(api, token, product, key, "m-1")[1]["result"] == 0
    assert api.post("key/Deactivate", token=token, ProductId=product.id, Key=key.key, MachineCode="m-1")[0] == 200
    _set_expiry(db, key, utcnow() - timedelta(days=1))
    assert _activate(api, token, product, key, "m-2")[1]["message"] == "The key has expired."

    status, answer = api.post("key/CreateTrialKey", token=token, ProductId=product.id, MachineCode="t")
    trial = db.exec(select(LicenseKey).where(LicenseKey.key == answer["key"])).one()
    assert trial.countdown_starts == 1  # started by its machine as it was made
    assert api.post("key/Deactivate", token=token, ProductId=product.id, Key=trial.key, MachineCode="t")[0] == 200
    _set_expiry(db, trial, utcnow() - timedelta(days=1))
    assert _activate(api, token, product, trial, "t")[1]["message"] == "The key has expired."  # no endless trial


def test_a_key_with_one_of_two_machines_in_is_reminded_but_not_swept(app, make, vendor, product, customer, db):
    owner = db.get(Vendor, vendor.id)
    owner.block_expired_keys, owner.remind_days_before_expiry = True, 30
    db.commit()
    key = make.key(product, period=30, trial_activation=True, max_no_of_machines=2, customer=customer,
                   machines=("m-1",))
    _set_expiry(db, key, utcnow() + timedelta(days=3))
    assert db.exec(select(LicenseKey.id).where(*due_for_reminder(owner, utcnow()))).all() == [key.id]
    _set_expiry(db, key, utcnow() - timedelta(days=1))
    assert sweep.block_expired_keys(db) == 0  # a second machine may still start it, as in Cryptolens


def test_the_form_refuses_a_countdown_without_a_machine_limit_and_pages_say_what_it_does(
        vendor_client, portal_client, make, vendor, product, customer):
    from tests.support.pages import post_form

    answer = post_form(vendor_client, "/vendor/keys/new", {"product_id": product.id, "period": "30",
                                                           "trial_activation": "y", "max_no_of_machines": "0"})
    assert answer.status_code == 422
    assert "Give a maximum number of machines too" in answer.get_data(as_text=True)
    assert make.session.exec(select(LicenseKey)).all() == []

    key = make.key(product, period=30, trial_activation=True, max_no_of_machines=2, customer=customer)
    page = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert "0 of 2 machines have started it" in page and "moves to 30 days after the next new machine" in page
    card = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "<dt>Runs</dt><dd>30 days from its activation</dd>" in card
    keys.activate_machine(make.session, key=make.session.get(LicenseKey, key.id), mid="m-1", actor="test")
    make.session.commit()
    card = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "<dt>Expires</dt>" in card and "<dt>Runs</dt>" not in card
    assert "1 of 2 machines have started it" in vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)


def test_extending_a_key_waiting_for_its_machines_lengthens_the_period_they_start(vendor_client, make, product, db):
    key = _made_ahead(make, product, machines=1)
    page = f"/vendor/keys/{key.id}"
    html = vendor_client.get(page).get_data(as_text=True)
    assert "A machine that starts the countdown later gets the new period from its activation." in html
    answer = post_form(vendor_client, f"{page}/extend", {"days": "10"}, page=page)
    assert answer.status_code == 303
    assert "Expiry and period changed." in vendor_client.get(page).get_data(as_text=True)
    db.expire_all()
    extended = db.get(LicenseKey, key.id)
    assert extended.period == 40
    keys.activate_machine(db, key=extended, mid="m-1", actor="test")
    db.commit()
    assert abs(db.get(LicenseKey, key.id).expires - (utcnow() + timedelta(days=40))) < timedelta(minutes=1)
    assert "starts the countdown later" not in vendor_client.get(page).get_data(as_text=True)  # no start left


@pytest.mark.parametrize("setting", ["first_activation", " First_Activation "])
def test_a_product_set_to_first_activation_has_its_keys_started_by_their_first_machine_only(
        api, vendor_client, make, vendor, product, db, setting):
    """Cryptolens' product data object `cryptolens_trialactivation` = `first_activation`: the first machine starts
    the period; a second machine takes a slot but moves nothing, the key expires like any and the sweep blocks it."""
    from portal.dataobjects.services import PRODUCT, add_object

    add_object(db, vendor_id=vendor.id, name="cryptolens_trialactivation", string_value=setting,
               referencer_type=PRODUCT, referencer_id=product.id, actor="test")
    db.commit()
    key = _made_ahead(make, product, machines=3)
    assert "yes: its first machine will start it" in vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    token = api.token(vendor)
    assert _activate(api, token, product, key, "m-1")[1]["result"] == 0
    started = db.get(LicenseKey, key.id).expires
    assert started > utcnow() + timedelta(days=29)
    assert "yes, and started: a new machine no longer moves its expiry" in vendor_client.get(
        f"/vendor/keys/{key.id}").get_data(as_text=True)
    _set_expiry(db, key, utcnow() - timedelta(days=1))
    assert _activate(api, token, product, key, "m-2")[1]["message"] == "The key has expired."  # no second start
    post_form(vendor_client, f"/vendor/keys/{key.id}/details", {"max_no_of_machines": "5", "trial_activation": "y"},
              page=f"/vendor/keys/{key.id}")  # a higher limit gives no new start
    assert db.get(LicenseKey, key.id).max_no_of_machines == 5
    assert _activate(api, token, product, key, "m-3")[1]["message"] == "The key has expired."
    owner = db.get(Vendor, vendor.id)
    owner.block_expired_keys = True
    db.commit()
    assert sweep.block_expired_keys(db) == 1


def test_another_value_of_the_setting_or_another_products_setting_keeps_each_machine_starting_it(
        api, make, vendor, product, db):
    from portal.dataobjects.services import PRODUCT, add_object

    other = make.product(vendor)
    add_object(db, vendor_id=vendor.id, name="cryptolens_trialactivation", string_value="first_activation",
               referencer_type=PRODUCT, referencer_id=other.id, actor="test")
    # Another text (refused by the forms since, but kept from before) changes nothing.
    db.add(DataObject(vendor_id=vendor.id, name="cryptolens_trialactivation", string_value="each_activation",
                      referencer_type=PRODUCT, referencer_id=product.id))
    db.commit()
    key = _made_ahead(make, product, machines=2)
    token = api.token(vendor)
    assert _activate(api, token, product, key, "m-1")[1]["result"] == 0
    _set_expiry(db, key, utcnow() - timedelta(days=1))
    assert _activate(api, token, product, key, "m-2")[1]["result"] == 0  # the second machine starts it again
    assert db.get(LicenseKey, key.id).countdown_starts == 2


def test_a_key_no_machine_started_is_shown_as_starting_at_activation_not_as_expiring(make, vendor, product, db,
                                                                                      vendor_client):
    key = _made_ahead(make, product, days_ago=20)  # 10 days left of a period that has not begun
    assert status_of(db.get(LicenseKey, key.id), utcnow()) == "waiting"
    home = vendor_client.get("/vendor/").get_data(as_text=True)
    page = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert "Starts at activation" in page and "Expires within 14 days" not in page
    assert 'data-testid="expiring-count">0<' in home
    started = make.key(product, period=30, trial_activation=True, max_no_of_machines=1)
    keys.activate_machine(db, key=db.get(LicenseKey, started.id), mid="m-1", actor="test")
    db.commit()
    _set_expiry(db, started, utcnow() + timedelta(days=5))
    assert status_of(db.get(LicenseKey, started.id), utcnow()) == "expiring"  # started: its expiry is real
