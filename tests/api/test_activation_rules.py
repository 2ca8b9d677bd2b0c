"""The activation rules through the API: blocked and expired keys, refreshing a known machine, the customer's
devices, and what the vendor's and the customer's pages show of machines the API activated."""

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from portal.api_models import ApiToken
from portal.keys import services as keys
from portal.models import ActivatedMachine, AuditEvent, utcnow


def _activate(api, token, product, key, mid, **extra):
    return api.post("key/Activate", token=token, ProductId=product.id, Key=key.key, MachineCode=mid, **extra)


def test_blocked_and_expired_keys_are_refused_with_a_clear_message(api, make, vendor, product, db):
    token = api.token(vendor)
    blocked = make.key(product)
    keys.set_blocked(db, key=blocked, blocked=True, actor="test")
    expired = make.key(product, period=1)
    expired.expires = utcnow() - timedelta(days=1)
    db.add(expired)
    db.commit()
    assert _activate(api, token, product, blocked, "m")[1] == {
        "result": 1, "message": "The key is blocked and cannot be accessed."}  # Cryptolens' words
    assert _activate(api, token, product, expired, "m")[1] == {"result": 1, "message": "The key has expired."}
    assert db.exec(select(ActivatedMachine)).all() == []


def test_reactivating_a_known_machine_refreshes_it_without_a_slot_or_an_audit_entry(api, make, vendor, product, db):
    key = make.key(product, max_no_of_machines=1)
    token = api.token(vendor)
    assert _activate(api, token, product, key, "m-1")[1]["result"] == 0
    first = db.exec(select(ActivatedMachine)).one().time
    events = len(db.exec(select(AuditEvent)).all())
    assert _activate(api, token, product, key, "m-1", FriendlyName="Renamed")[1]["result"] == 0
    machine = db.exec(select(ActivatedMachine)).one()
    assert machine.time >= first and machine.friendly_name == "Renamed"
    assert len(db.exec(select(AuditEvent)).all()) == events
    assert _activate(api, token, product, key, "m-2")[1]["message"] == (
        "Cannot activate the new device as the limit has been reached.")


def test_the_customers_device_limit_holds_across_keys(api, make, vendor, product, db):
    customer = make.customer(vendor, max_no_of_devices=1)
    one, two = make.key(product, customer=customer), make.key(product, customer=customer)
    token = api.token(vendor)
    assert _activate(api, token, product, one, "pc")[1]["result"] == 0
    assert _activate(api, token, product, two, "pc")[1]["result"] == 0
    assert _activate(api, token, product, two, "laptop")[1]["message"] == (
        "The customer uses as many devices as they are allowed.")


def test_last_used_is_written_at_most_once_a_minute(api, make, vendor, product, db):
    token = api.token(vendor, "products")
    api.post("product/GetProducts", token=token)
    used = db.exec(select(ApiToken.last_used_at)).one()
    api.post("product/GetProducts", token=token)
    assert used is not None and db.exec(select(ApiToken.last_used_at)).one() == used


def test_machines_show_in_the_portal_and_one_deactivated_there_is_gone_for_the_api(
        api, make, vendor, product, customer, vendor_client, portal_client, db):
    key = make.key(product, customer=customer)
    token = api.token(vendor, name="desktop app")
    assert _activate(api, token, product, key, "seen-by-api", FriendlyName="Studio PC")[1]["result"] == 0
    assert "Studio PC" in vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert "Studio PC" in portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    machine = db.exec(select(ActivatedMachine)).one()
    keys.deactivate_machine(db, key=key, machine_id=machine.id, actor="vendor")
    db.commit()
    answer = api.post("key/GetKey", token=token, ProductId=product.id, Key=key.key, Sign="False")[1]
    assert answer["licenseKey"]["ActivatedMachines"] == []
    activated = select(AuditEvent.actor).where(AuditEvent.action == "key.machine_activated")
    assert db.exec(activated).first() == api.actor("desktop app")


@pytest.mark.parametrize("mid", ["m-known", "m-new"])
def test_an_activation_holds_one_connection_at_a_time(api, api_app, make, vendor, product, db, mid):
    """key/Activate reads on a connection and writes (a new machine) in a session of its own: the reading connection
    goes back to the pool first, so that calls waiting for a second connection never hold the pool's others."""
    key = make.key(product, max_no_of_machines=5)
    token = api.token(vendor)
    assert _activate(api, token, product, key, "m-known")[1]["result"] == 0
    call = {"token": token, "ProductId": product.id, "Key": key.key, "MachineCode": mid}  # read before counting
    engine, held, most = api_app.extensions["db_engine"], set(), [0]

    def checkout(connection, _record, _proxy):
        held.add(id(connection))
        most[0] = max(most[0], len(held))

    def checkin(connection, _record):
        held.discard(id(connection))

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        status, answer = api.post("key/Activate", **call)
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
    assert (status, answer["result"], most[0], held) == (200, 0, 1, set())
    assert len(db.exec(select(ActivatedMachine)).all()) == 2 if mid == "m-new" else 1
