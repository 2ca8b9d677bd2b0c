"""Cryptolens' product configuration cryptolens_dobjreset: key data objects set back on a schedule, once per period."""

import json
from datetime import date, timedelta

import pytest
from sqlmodel import select

from portal.dataobjects.resets import reset_due
from portal.dataobjects.services import KEY, PRODUCT, add_object
from portal.models import AuditEvent, DataObject
from tests.support.pages import post_form

MONDAY = date(2026, 11, 30)


@pytest.fixture
def product(make, vendor):
    return make.product(vendor)


def _setting(db, vendor, product, entries) -> DataObject:
    setting = add_object(db, vendor_id=vendor.id, name="cryptolens_dobjreset", string_value=json.dumps(entries),
                         referencer_type=PRODUCT, referencer_id=product.id, actor="test")
    db.commit()
    return setting


def _credits(db, key, value: int = 0, name: str = "credits") -> DataObject:
    item = add_object(db, vendor_id=key.vendor_id, name=name, int_value=value, referencer_type=KEY,
                      referencer_id=key.id, actor="test")
    db.commit()
    return item


def _values(db, *items) -> list[int]:
    db.expire_all()
    return [db.get(DataObject, item.id).int_value for item in items]


def test_each_key_of_the_product_gets_its_credits_back_once_a_day(make, vendor, product, db):
    _setting(db, vendor, product, [{"Name": "credits", "Freq": 1, "Default": 5}])
    first, second = make.key(product), make.key(product)
    other_product_key = make.key(make.product(vendor, name="Other"))
    used = [_credits(db, first, 1), _credits(db, second, 0)]
    untouched = [_credits(db, first, 2, name="seats"), _credits(db, other_product_key, 0)]

    assert reset_due(db, MONDAY) == 1
    assert _values(db, *used, *untouched) == [5, 5, 2, 0]
    assert json.loads(db.exec(select(AuditEvent.after).where(AuditEvent.action == "data_objects.reset")).one()) == {
        "name": "credits", "int_value": 5, "keys": 2}
    _credits_used = db.get(DataObject, used[0].id)
    _credits_used.int_value = 3  # the customer's software spends two
    db.commit()
    assert reset_due(db, MONDAY) == 0  # the same day again: nothing
    assert _values(db, used[0]) == [3]
    assert reset_due(db, MONDAY + timedelta(days=1)) == 1
    assert _values(db, used[0]) == [5]
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "data_objects.reset")
                    .order_by(AuditEvent.id.desc())).first()
    assert (event.actor, event.subject_type, event.subject_id) == ("portal", "product", product.id)
    assert json.loads(event.after) == {"name": "credits", "int_value": 5, "keys": 1}  # the other one had 5 still


def test_a_longer_period_resets_once_in_it_and_a_missed_day_is_caught_up_once(make, vendor, product, db):
    _setting(db, vendor, product, [{"Name": "credits", "Freq": 7, "Default": 100}])
    item = _credits(db, make.key(product), 0)
    assert reset_due(db, MONDAY) == 1  # the first run after the setting is made
    days = [MONDAY + timedelta(days=n) for n in range(1, 22)]
    resets = []
    for day in days:
        db.get(DataObject, item.id).int_value = 0
        db.commit()
        if reset_due(db, day):
            resets.append(day)
    assert len(resets) == 3 and all((b - a).days == 7 for a, b in zip(resets, resets[1:], strict=False))
    # the job did not run for twenty days: one reset at its next run, not three
    assert reset_due(db, days[-1] + timedelta(days=20)) == 1
    assert reset_due(db, days[-1] + timedelta(days=20)) == 0


@pytest.mark.parametrize("days_ago", [None, 1])  # the first reset (an insert), a later one (a conditional update)
def test_runs_at_once_reset_once(app, make, vendor, product, db, days_ago):
    import threading

    from portal.jobs import job_session
    from portal.models import DataObjectReset

    _setting(db, vendor, product, [{"Name": "credits", "Freq": 1, "Default": 5}])
    _credits(db, make.key(product), 0)
    if days_ago is not None:
        db.add(DataObjectReset(product_id=product.id, name="credits", last_day=MONDAY.toordinal() - days_ago))
        db.commit()
    start, done = threading.Barrier(4), []

    def run():
        with app.app_context(), job_session() as session:
            start.wait()
            done.append(reset_due(session, MONDAY))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(done) == [0, 0, 0, 1]
    assert len(db.exec(select(AuditEvent).where(AuditEvent.action == "data_objects.reset")).all()) == 1


def test_deleting_and_adding_the_setting_again_does_not_top_up_twice_in_a_period(make, vendor, product, db):
    from portal.dataobjects.services import delete_object

    setting = _setting(db, vendor, product, [{"Name": "credits", "Freq": 1, "Default": 5}])
    item = _credits(db, make.key(product), 0)
    assert reset_due(db, MONDAY) == 1
    delete_object(db, data_object=setting, actor="test")
    db.commit()
    _setting(db, vendor, product, [{"Name": "credits", "Freq": 1, "Default": 9}])
    db.get(DataObject, item.id).int_value = 1
    db.commit()
    assert reset_due(db, MONDAY) == 0 and _values(db, item) == [1]
    assert reset_due(db, MONDAY + timedelta(days=1)) == 1 and _values(db, item) == [9]


def test_only_a_products_schedule_is_checked(vendor_client, db):
    """On the account the name means nothing here, so any text is kept, as before the schedule was read."""
    answer = post_form(vendor_client, "/vendor/data-objects/", {"name": "cryptolens_dobjreset", "string_value": "x",
                                                                 "int_value": "0"})
    assert answer.status_code == 303


@pytest.mark.parametrize("text, says", [
    ("credits", "This is not JSON."),
    ("[]", "Give a list like"),
    ('[{"Name": "credits", "Freq": 0, "Default": 5}]', "a Freq of 1 to 3,650 days"),
    ('[{"Name": "credits", "Freq": 1, "Default": "5"}]', "a whole-number Default"),
    ('[{"Name": "a", "Freq": 1, "Default": 1}, {"Name": "a", "Freq": 2, "Default": 2}]', "Name each data object once."),
])
def test_a_setting_that_is_not_a_schedule_is_refused_with_why(vendor_client, product, db, text, says):
    page = f"/vendor/data-objects/product/{product.id}"
    answer = post_form(vendor_client, page, {"name": "cryptolens_dobjreset", "string_value": text, "int_value": "0"})
    assert answer.status_code == 422 and says in answer.get_data(as_text=True)
    assert db.exec(select(DataObject)).all() == []


def test_the_products_form_explains_the_schedule_and_the_job_skips_a_broken_one(vendor_client, make, vendor, product,
                                                                               db):
    page = vendor_client.get(f"/vendor/data-objects/product/{product.id}").get_data(as_text=True)
    assert "cryptolens_dobjreset" in page and "back every day" in page
    db.add(DataObject(vendor_id=vendor.id, name="cryptolens_dobjreset", string_value="not json",
                      referencer_type=PRODUCT, referencer_id=product.id))
    db.commit()
    assert reset_due(db, MONDAY) == 0


def test_a_product_with_a_schedule_that_has_run_can_be_deleted(make, vendor, product, db):
    from portal.models import DataObjectReset
    from portal.products.services import delete_product

    _setting(db, vendor, product, [{"Name": "credits", "Freq": 1, "Default": 5}])
    _credits(db, make.key(product), 0)
    assert reset_due(db, MONDAY) == 1
    delete_product(db, product=product, actor="test")
    db.commit()
    assert db.exec(select(DataObjectReset)).all() == [] and db.exec(select(DataObject)).all() == []


def test_the_web_api_refuses_a_broken_schedule_with_why(app, make, vendor, product, db):
    from portal.api import tokens

    _token, token = tokens.create_token(db, vendor_id=vendor.id, name="t", scopes=["dataobjects"], actor="test")
    db.commit()
    answer = app.test_client().post("/api/data/AddDataObject", data={
        "token": token, "Name": "cryptolens_dobjreset", "StringValue": "every day", "ReferencerType": "1",
        "ReferencerId": str(product.id)})
    assert answer.status_code == 400 and "This is not JSON." in answer.get_json()["message"]
    assert db.exec(select(DataObject)).all() == []
