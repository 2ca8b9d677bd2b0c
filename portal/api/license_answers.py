"""The answer of key/Activate and key/GetKey: the key with what FieldsToReturn keeps, signed by the vendor's key,
with the signed `metadata` when asked."""

from flask import current_app
from sqlmodel import Session

from portal.api import signing
from portal.api.answers import key_object, ok, signed_key, unix, wants
from portal.api.calls import Call
from portal.dataobjects.services import KEY, list_objects
from portal.keys.services import machines_of
from portal.models import Customer, LicenseKey


def _live_machines(call: Call, key: LicenseKey) -> list:
    machines = machines_of(call.session, key_ids=[key.id])[key.id]
    return [m for m in machines if m.floating_expires is None or m.floating_expires > call.now]


def _private_key(call: Call, *, writes: bool):
    """The vendor's loaded private key; a vendor's first signed answer makes its pair (in a write of its own
    when the call only reads)."""
    encryptor = current_app.extensions["encryptor"]
    modulus = signing.modulus_of(call.session, vendor_id=call.vendor_id)
    if modulus is None and writes:
        modulus = signing.ensure_key(call.session, vendor_id=call.vendor_id, encryptor=encryptor).modulus
    elif modulus is None:
        with Session(current_app.extensions["db_engine"], expire_on_commit=False) as writer:
            modulus = signing.ensure_key(writer, vendor_id=call.vendor_id, encryptor=encryptor).modulus
            writer.commit()
    return signing.private_key(call.session, vendor_id=call.vendor_id, modulus=modulus, encryptor=encryptor)


def license_answer(call: Call, key: LicenseKey, *, writes: bool, message: str = ""):
    params = call.params
    fields = params.integer("FieldsToReturn", minimum=0, maximum=2**31 - 1)
    machines = _live_machines(call, key)
    values = key_object(
        key, now=call.now, fields_to_return=fields,
        customer=call.session.get(Customer, key.customer_id) if key.customer_id and wants(fields, "Customer") else None,
        machines=machines if wants(fields, "ActivatedMachines") else (),
        data_objects=list_objects(call.session, vendor_id=call.vendor_id, referencer_type=KEY, referencer_id=key.id)
        if wants(fields, "DataObjects") else ())
    with_metadata = params.flag("metadata")
    if not params.flag("Sign", default=True) and not with_metadata:
        return ok(message, licenseKey=values)
    private = _private_key(call, writes=writes)
    data = signed_key(values, private)
    if with_metadata:
        status = _status(key, call.now)
        data["metadata"] = {"activatedMachines": len(machines), "licenseStatus": status,
                            "signature": signing.signed_metadata(private, {
                                "ActivatedMachines": len(machines), "LicenseStatus": status,
                                "SignDate": unix(call.now)})}
    return ok(message, **data)


def _status(key: LicenseKey, now) -> dict:
    reasons = [reason for reason, applies in (("The key is blocked.", key.block),
                                              ("The key has expired.", key.expires <= now)) if applies]
    return {"isValid": not reasons, "timeLeft": max(0, int((key.expires - now).total_seconds()) // 86400),
            "reasonForInvalidity": " ".join(reasons)}
