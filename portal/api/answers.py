"""The Web API's JSON: `{"result": 0|1, "message": ...}` with camelCase data, and the PascalCase license key."""

import base64
import json
from datetime import datetime

from flask import jsonify

from portal.api import signing

# FieldsToReturn: each bit leaves one field of the license key out of the answer (0 = all), in Cryptolens' order.
KEY_FIELDS = ("ProductId", "ID", "Key", "Created", "Expires", "Period", "F1", "F2", "F3", "F4", "F5", "F6", "F7",
              "F8", "Notes", "Block", "GlobalId", "Customer", "ActivatedMachines", "TrialActivation",
              "MaxNoOfMachines", "AllowedMachines", "DataObjects", "SignDate")
BIT = {name: 1 << n for n, name in enumerate(KEY_FIELDS)}
ALL_FIELDS = (1 << len(KEY_FIELDS)) - 1
# What a field FieldsToReturn leaves out shows (booleans False, numbers 0). ActivatedMachines is the caller's to
# choose: key/Activate then shows the machine it activated, as Cryptolens does.
_LEFT_OUT = {"DataObjects": [], "Customer": None, "Key": None, "Notes": None, "AllowedMachines": None}
# LicenseStatus.ReasonForInvalidity in Cryptolens' clients (SKM.V3.InvalidityReason).
NOT_INVALID, EXPIRED, BLOCKED = 0, 1, 2


def ok(message: str = "", **data):
    return jsonify(result=0, message=message, **data)


def refusal(message: str, status: int = 400):
    return jsonify(result=1, message=message), status


def unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment is not None else 0


def wants(fields_to_return: int, name: str) -> bool:
    return not fields_to_return & BIT[name]


def customer_object(customer) -> dict | None:
    if customer is None:
        return None
    return {"Id": customer.id, "Name": customer.name, "Email": customer.email,
            "CompanyName": customer.company_name, "Created": unix(customer.created)}


def machine_object(machine) -> dict:
    entry = {"Mid": machine.mid, "IP": machine.ip, "Time": unix(machine.time)}
    if machine.friendly_name:
        entry["FriendlyName"] = machine.friendly_name
    if machine.floating_expires is not None:
        entry["FloatingExpires"] = unix(machine.floating_expires)
    return entry


def data_object(obj) -> dict:
    return {"Id": obj.id, "Name": obj.name, "StringValue": obj.string_value, "IntValue": obj.int_value}


def key_object(key, *, customer=None, machines=(), data_objects=(), now: datetime, fields_to_return: int = 0) -> dict:
    """Every field of the key in Cryptolens' shape; a field FieldsToReturn leaves out keeps its empty value (the
    machines shown are the caller's choice)."""
    values = {
        "ProductId": key.product_id, "ID": key.key_number, "Key": key.key, "Created": unix(key.created),
        "Expires": unix(key.expires), "Period": key.period,
        **{f"F{n}": bool(getattr(key, f"f{n}")) for n in range(1, 9)},
        "Notes": key.notes, "Block": bool(key.block), "GlobalId": key.id, "Customer": customer_object(customer),
        "ActivatedMachines": [machine_object(m) for m in machines], "TrialActivation": bool(key.trial_activation),
        "MaxNoOfMachines": key.max_no_of_machines, "AllowedMachines": key.allowed_machines,
        "DataObjects": [data_object(d) for d in data_objects], "SignDate": unix(now),
    }
    if fields_to_return:
        for name in KEY_FIELDS:
            if not wants(fields_to_return, name) and name != "ActivatedMachines":
                values[name] = _LEFT_OUT.get(name, False if isinstance(values[name], bool) else 0)
    return values


def compact_json(values) -> bytes:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode()


def signed_key(values: dict, private_key) -> dict:
    """`licenseKey` (base64 of the JSON's exact bytes) and `signature` (SHA-256 RSA over those bytes)."""
    raw = compact_json(values)
    return {"licenseKey": base64.b64encode(raw).decode(),
            "signature": base64.b64encode(signing.sign(private_key, raw)).decode()}


def key_metadata(key, live_machines, now: datetime) -> dict:
    """What `metadata=True` adds, as Cryptolens' KeyMetadata: the machines in use, the license's status and the
    floating machines in use. Keys always expire here, so every key is time-limited; a trial key is one made by
    key/CreateTrialKey (TrialActivation)."""
    reason = BLOCKED if key.block else EXPIRED if key.expires <= now else NOT_INVALID
    return {"ActivatedMachines": len(live_machines),
            "LicenseStatus": {"IsValid": reason == NOT_INVALID, "ReasonForInvalidity": reason,
                              "Trial": bool(key.trial_activation), "TimeLimited": True,
                              "TimeLeft": max(0, int((key.expires - now).total_seconds()) // 86400)},
            "UsedFloatingMachines": sum(1 for m in live_machines if m.floating_expires is not None)}


def metadata_answer(metadata: dict, signature: str) -> dict:
    """The metadata in the answer's camelCase, with the signature of its PascalCase JSON."""
    status = metadata["LicenseStatus"]
    return {"activatedMachines": metadata["ActivatedMachines"],
            "licenseStatus": {"isValid": status["IsValid"], "reasonForInvalidity": status["ReasonForInvalidity"],
                              "trial": status["Trial"], "timeLimited": status["TimeLimited"],
                              "timeLeft": status["TimeLeft"]},
            "usedFloatingMachines": metadata["UsedFloatingMachines"], "signature": signature}
