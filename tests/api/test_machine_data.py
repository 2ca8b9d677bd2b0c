"""A machine's data objects (the `...ToMachineCode` methods) are that activation's: they go with the machine, however
it goes (deactivated through the API or the portal, lapsed as a floating activation, its key or product deleted),
and a later machine never finds them; the vendor's pages open and delete them like any other."""

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from portal.dataobjects.services import MACHINE, add_object
from portal.domain import DomainError
from portal.keys import services as keys
from portal.models import ActivatedMachine, DataObject, LicenseKey, utcnow
from portal.products.services import delete_product
from tests.conftest import TEST_DATABASE
from tests.support.pages import csrf_token
from tests.support.waiting import waiting_on_a_lock


def _machine_data(api, token, product, key, mid, **params):
    return api.post("data/AddDataObjectToMachineCode", token=token, ProductId=product.id, Key=key.key,
                    MachineCode=mid, **params)


def _listed(api, token, product, key, mid) -> list:
    status, answer = api.post("data/ListDataObjectsToMachineCode", token=token, ProductId=product.id, Key=key.key,
                              MachineCode=mid)
    assert status == 200 and answer["result"] == 0, answer
    return answer["dataObjects"]


def _activate(api, token, product, key, mid, **extra) -> None:
    status, answer = api.post("key/Activate", token=token, ProductId=product.id, Key=key.key, MachineCode=mid,
                              **extra)
    assert status == 200 and answer["result"] == 0, answer


def test_a_deactivated_machines_data_goes_with_it_and_a_later_machine_finds_none(api, make, vendor, product, db):
    token = api.token(vendor)
    alices, bobs = make.key(product, customer=make.customer(vendor)), make.key(product, customer=make.customer(vendor))
    _activate(api, token, product, alices, "alice-laptop")
    assert _machine_data(api, token, product, alices, "alice-laptop", Name="credits", IntValue=100,
                         StringValue="alice's license file")[1]["result"] == 0
    assert api.post("key/Deactivate", token=token, ProductId=product.id, Key=alices.key,
                    MachineCode="alice-laptop")[1]["result"] == 0
    assert db.exec(select(DataObject).where(DataObject.referencer_type == MACHINE)).all() == []
    _activate(api, token, product, bobs, "bob-pc")
    _activate(api, token, product, alices, "alice-laptop")  # activated again: a new activation, nothing of the old
    assert _listed(api, token, product, bobs, "bob-pc") == []
    assert _listed(api, token, product, alices, "alice-laptop") == []
    ids = [machine.id for machine in db.exec(select(ActivatedMachine).order_by(ActivatedMachine.id))]
    assert len(set(ids)) == 2 and min(ids) > 1  # the first machine's id was not handed out again


def test_the_portals_deactivate_a_lapsed_floating_activation_and_deleting_key_or_product_take_the_data_too(
        api, make, vendor, product, db):
    token = api.token(vendor)
    key, other = make.key(product, max_no_of_machines=2), make.key(product)
    for mid in ("m-1", "m-2"):
        _activate(api, token, product, key, mid)
        _machine_data(api, token, product, key, mid, Name="seen")
    machine = db.exec(select(ActivatedMachine).where(ActivatedMachine.mid == "m-1")).one()
    keys.deactivate_machine(db, key=key, machine_id=machine.id, actor="account:1 customer@example.test")
    db.commit()
    assert [o.referencer_id for o in db.exec(select(DataObject))] == [
        db.exec(select(ActivatedMachine.id).where(ActivatedMachine.mid == "m-2")).one()]

    _activate(api, token, product, other, "f", FloatingTimeInterval=100)
    _machine_data(api, token, product, other, "floating:f", Name="seen")
    floating = db.exec(select(ActivatedMachine).where(ActivatedMachine.key_id == other.id)).one()
    floating.floating_expires = utcnow() - timedelta(seconds=1)
    db.add(floating)
    db.commit()
    _activate(api, token, product, other, "g", FloatingTimeInterval=100)  # the lapsed one's row goes now
    assert len(db.exec(select(DataObject)).all()) == 1

    keys.delete_key(db, key=key, actor="test")
    db.commit()
    _machine_data(api, token, product, other, "floating:g", Name="seen")
    delete_product(db, product=product, actor="test")
    db.commit()
    assert db.exec(select(DataObject)).all() == []


def test_the_vendor_opens_edits_and_deletes_a_machines_data_object(api, make, vendor, product, vendor_client, db):
    key = make.key(product, machines=("laptop-1",))
    token = api.token(vendor)
    object_id = _machine_data(api, token, product, key, "laptop-1", Name="seen", IntValue=3)[1]["id"]
    page = vendor_client.get(f"/vendor/data-objects/{object_id}/edit")
    assert page.status_code == 200 and f"Of machine laptop-1 on key {key.key}." in page.get_data(as_text=True)
    saved = vendor_client.post(f"/vendor/data-objects/{object_id}/edit", data={
        "csrf_token": csrf_token(vendor_client, f"/vendor/data-objects/{object_id}/edit"), "name": "seen",
        "string_value": "", "int_value": 4})
    assert saved.status_code == 303 and saved.headers["Location"] == f"/vendor/keys/{key.id}"
    deleted = vendor_client.post(f"/vendor/data-objects/{object_id}/delete", data={
        "csrf_token": csrf_token(vendor_client, f"/vendor/keys/{key.id}")})
    assert deleted.status_code == 303 and deleted.headers["Location"] == f"/vendor/keys/{key.id}"
    assert db.exec(select(DataObject)).all() == []


@pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")
def test_an_object_added_while_its_machine_is_deactivated_goes_with_it(app, make, vendor, product, db):
    """PostgreSQL: the adding transaction holds the machine's row; the deactivation waits for it, then takes the new
    object with the machine. Nothing is left that a machine could find."""
    key = make.key(product, machines=("laptop-1",))
    machine_id = db.exec(select(ActivatedMachine.id)).one()
    engine = app.extensions["db_engine"]
    with Session(engine) as adding:  # add_object holds the machine's row
        add_object(adding, vendor_id=vendor.id, name="seen", referencer_type=MACHINE, referencer_id=machine_id,
                   actor="test")
        adding.flush()

        def deactivate() -> None:
            with Session(engine) as session:
                keys.deactivate_machine(session, key=session.get(LicenseKey, key.id), machine_id=machine_id,
                                        actor="test")
                session.commit()

        worker = waiting_on_a_lock(deactivate, "the deactivation waits for the adding transaction")
        adding.commit()
    worker.join(timeout=10)
    assert not worker.is_alive()
    db.expire_all()
    assert db.exec(select(DataObject)).all() == [] and db.exec(select(ActivatedMachine)).all() == []
    with Session(engine) as late, pytest.raises(DomainError, match="not activated"):  # an add after it went
        add_object(late, vendor_id=vendor.id, name="late", referencer_type=MACHINE, referencer_id=machine_id,
                   actor="test")
