"""The official `licensing` client, unchanged, against a served app: activate, verify, get, deactivate."""

from licensing.methods import Helpers, Key
from sqlmodel import select

from portal.models import ActivatedMachine, AuditEvent


def test_activate_verify_get_and_deactivate(server, api, make, vendor, product, db):
    key = make.key(product, period=30, max_no_of_machines=2, f1=True, notes="Pro")
    token = api.token(vendor, name="desktop app")
    public_key = api.public_key(vendor)

    license_key, message = Key.activate(token=token, rsa_pub_key=public_key, product_id=product.id, key=key.key,
                                        machine_code="machine-1", friendly_name="Ada's laptop")
    assert license_key is not None, message
    assert (license_key.key, license_key.id, license_key.global_id, license_key.f1, license_key.notes) == (
        key.key, key.key_number, key.id, True, "Pro")
    assert Helpers.IsOnRightMachine(license_key, custom_machine_code="machine-1")
    assert not Helpers.IsOnRightMachine(license_key, custom_machine_code="machine-2")
    assert Helpers.HasNotExpired(license_key)
    assert license_key.activated_machines[0].FriendlyName == "Ada's laptop"

    got, message = Key.get_key(token=token, rsa_pub_key=public_key, product_id=product.id, key=key.key)
    assert got is not None and Helpers.IsOnRightMachine(got, custom_machine_code="machine-1"), message

    done, message = Key.deactivate(token=token, product_id=product.id, key=key.key, machine_code="machine-1")
    assert done, message
    assert db.exec(select(ActivatedMachine)).all() == []
    actors = {event.actor for event in db.exec(select(AuditEvent).where(AuditEvent.action.like("key.machine%")))}
    assert actors == {api.actor("desktop app")}


def test_an_answer_signed_by_another_vendor_fails_the_clients_check(server, api, make, vendor, other_vendor,
                                                                     product):
    key = make.key(product)
    license_key, message = Key.activate(token=api.token(vendor), rsa_pub_key=api.public_key(other_vendor),
                                        product_id=product.id, key=key.key, machine_code="m")
    assert license_key is None and message == "The signature check failed."


def test_the_metadata_is_signed_and_in_the_shape_the_clients_read(server, api, make, vendor, product):
    key = make.key(product, period=30, max_no_of_machines=2)
    license_key, message, metadata = Key.activate(token=api.token(vendor), rsa_pub_key=api.public_key(vendor),
                                                  product_id=product.id, key=key.key, machine_code="m", metadata=True)
    assert license_key is not None, message
    status = metadata.pop("LicenseStatus")
    assert metadata == {"ActivatedMachines": 1, "UsedFloatingMachines": 0}
    assert status.pop("TimeLeft") in (29, 30)
    assert status == {"IsValid": True, "ReasonForInvalidity": 0, "Trial": False, "TimeLimited": True}
