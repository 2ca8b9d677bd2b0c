"""The answer of key/Activate and key/GetKey: the key with what FieldsToReturn keeps, signed by the vendor's key
(or the same answer signed moments ago, portal/api/signed_answer_cache.py), with the signed `metadata` when asked."""

from portal.api import signed_answer_cache, signing
from portal.api.answers import compact_json, key_metadata, key_object, metadata_answer, ok, signed_key, unix, wants
from portal.api.calls import Call
from portal.api.params import ApiError
from portal.keys.license_state import customer_of, data_objects_of_key


def _modulus(call: Call) -> str:
    """The vendor's signing modulus, read with the token; a vendor's first signed answer makes its pair."""
    if call.token.modulus is not None:
        return call.token.modulus
    return signing.ensure_key(call.writer(), vendor_id=call.vendor_id, encryptor=call.encryptor).modulus


def license_answer(call: Call, key, machines: list, *, this_machine=None, message: str = ""):
    """`key` is the key's row with its customer (portal/keys/license_state.py), `machines` its machines; when
    FieldsToReturn leaves the machines out, only `this_machine` (the one key/Activate activated) is shown."""
    params = call.params
    fields = params.integer("FieldsToReturn", minimum=0, maximum=2**31 - 1)
    live = [m for m in machines if m.floating_expires is None or m.floating_expires > call.now]
    shown = live if wants(fields, "ActivatedMachines") else [
        m for m in live if this_machine is not None and m.id == this_machine.id]
    values = key_object(
        key, now=call.now, fields_to_return=fields,
        customer=customer_of(key) if wants(fields, "Customer") else None, machines=shown,
        data_objects=data_objects_of_key(call.reader, vendor_id=call.vendor_id, key_id=key.id)
        if wants(fields, "DataObjects") else ())
    with_metadata = params.flag("metadata")
    if not params.flag("Sign", default=True) and not with_metadata:
        return ok(message, licenseKey=values)
    if (params.raw("SignMethod") or "1").strip().lower() not in ("1", "stringsign"):
        raise ApiError("The parameter SignMethod must be 1 (StringSign): this server signs the license key's JSON as "
                       "a string, as Cryptolens' clients check it; for an unsigned answer send Sign=False and no "
                       "metadata (metadata is signed, and signs the key with it).")
    metadata = key_metadata(key, live, call.now) if with_metadata else None
    modulus = _modulus(call)

    def sign() -> dict:
        private = signing.private_key(call.reader, vendor_id=call.vendor_id, modulus=modulus,
                                      encryptor=call.encryptor)
        data = signed_key(values, private)
        if metadata is not None:
            data["metadata"] = metadata_answer(metadata, signing.signed_metadata(private, metadata,
                                                                                date=unix(call.now)))
        return data

    # All the answer shows but the moment of signing: whether it shows a SignDate is part of it.
    unsigned = compact_json(values | {"SignDate": wants(fields, "SignDate")}) + compact_json(metadata)
    return ok(message, **signed_answer_cache.signed_answer(modulus=modulus, unsigned=unsigned, sign=sign))
