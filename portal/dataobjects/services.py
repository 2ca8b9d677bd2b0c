"""Data objects: named values on a vendor (user level), later on products and keys."""

import json
from dataclasses import dataclass

from sqlalchemy import BigInteger, cast, delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.audit import record_change, snapshot
from portal.dataobjects import features
from portal.domain import DomainError, find_owned, get_owned
from portal.models import (
    DATA_STRING_MAX,
    NAME_MAX,
    URL_MAX,
    ActivatedMachine,
    DataObject,
    LicenseKey,
    Product,
    Vendor,
)
from portal.rules import web_url_problem

# MACHINE: a machine activated on a key (the Web API's `...ToMachineCode` methods), by its ActivatedMachine id.
USER, PRODUCT, KEY, MACHINE = 0, 1, 2, 3
RESERVED_PREFIX = "cryptolens_"
TERMS_URL = "cryptolens_customtosurl"
# Cryptolens' product configurations read here (portal/keys/product_settings.py, portal/dataobjects/resets.py):
# only a key's first machine starts its countdown; extending a blocked key unblocks it; data objects of its keys set
# back on a schedule.
TRIAL_ACTIVATION, FIRST_ACTIVATION = "cryptolens_trialactivation", "first_activation"
UNBLOCK_EXTENDED = "cryptolens_unblockextendedlicenses"
RESETS = "cryptolens_dobjreset"
# The one text each of the first two acts on (any case); any other would be kept and do nothing.
_SWITCHES = {TRIAL_ACTIVATION: FIRST_ACTIVATION, UNBLOCK_EXTENDED: "true"}
MAX_RESET_DAYS = 3650
INT32 = (-(2**31), 2**31 - 1)
INT32_WORDS = f"Give a whole number from {INT32[0]:,} to {INT32[1]:,}."


@dataclass(frozen=True)
class Reset:
    name: str
    freq: int
    default: int


def parse_resets(text: str) -> list[Reset]:
    """The entries of a `cryptolens_dobjreset` text, or DomainError saying what is wrong with it."""
    example = 'Give a list like [{"Name": "credits", "Freq": 1, "Default": 5}] (Freq in days).'
    try:
        entries = json.loads(text)
    except ValueError:
        raise DomainError(f"This is not JSON. {example}", field="string_value") from None
    if not isinstance(entries, list) or not entries:
        raise DomainError(example, field="string_value")
    resets = []
    for entry in entries:
        ok = (isinstance(entry, dict) and isinstance(entry.get("Name"), str) and 0 < len(entry["Name"]) <= NAME_MAX
              and all(type(entry.get(k)) is int for k in ("Freq", "Default"))
              and 1 <= entry["Freq"] <= MAX_RESET_DAYS and INT32[0] <= entry["Default"] <= INT32[1])
        if not ok:
            raise DomainError(f"Each entry needs a Name, a Freq of 1 to {MAX_RESET_DAYS:,} days and a whole-number "
                              f"Default. {example}", field="string_value")
        resets.append(Reset(entry["Name"], entry["Freq"], entry["Default"]))
    if len({r.name for r in resets}) != len(resets):
        raise DomainError("Name each data object once.", field="string_value")
    return resets


def _check_configuration(referencer_type: int, name: str, string_value: str) -> None:
    """The reserved names read here take only a text they can act on: a product's configurations, a key's feature
    tree."""
    if referencer_type == PRODUCT:
        _check_product_configuration(name, string_value)
    elif referencer_type == KEY and name == features.FEATURES:
        features.feature_paths(string_value)


def _check_product_configuration(name: str, string_value: str) -> None:
    if name == RESETS:
        parse_resets(string_value)
    elif name in _SWITCHES and not _switches_on(name, string_value):
        raise DomainError(f"{name} does something only with the text {_SWITCHES[name]}.", field="string_value")


def _switches_on(name: str, string_value: str) -> bool:
    return string_value.strip().lower() == _SWITCHES[name]


def product_switch_on(session: Session, *, vendor_id: int, product_id: int, name: str) -> bool:
    """Whether the product's configuration `name` (cryptolens_trialactivation, cryptolens_unblockextendedlicenses)
    has the text it acts on, read as the forms check it."""
    found = find_by_name(session, vendor_id=vendor_id, name=name, referencer_type=PRODUCT, referencer_id=product_id)
    return found is not None and _switches_on(name, found.string_value)


def _validate(name: str, string_value: str, int_value: int) -> None:
    if not name or len(name) > NAME_MAX:
        raise DomainError(f"Give a name of 1 to {NAME_MAX} characters.", field="name")
    if "\x00" in name or "\x00" in string_value:
        raise DomainError("Remove the NUL characters.", field="string_value" if "\x00" in string_value else "name")
    if len(string_value) > DATA_STRING_MAX:
        raise DomainError(f"At most {DATA_STRING_MAX:,} characters.", field="string_value")
    if not INT32[0] <= int_value <= INT32[1]:
        raise DomainError(INT32_WORDS, field="int_value")
    problem = web_url_problem(string_value, otherwise=f"The terms of use need an http:// or https:// address of at "
                                                      f"most {URL_MAX:,} characters.") if name == TERMS_URL else ""
    if problem:
        raise DomainError(problem, field="string_value")


def list_objects(session: Session, *, vendor_id: int, referencer_type: int = USER, referencer_id: int = 0):
    return session.exec(select(DataObject).where(
        DataObject.vendor_id == vendor_id, DataObject.referencer_type == referencer_type,
        DataObject.referencer_id == referencer_id).order_by(DataObject.name, DataObject.id)).all()


def get_object(session: Session, *, vendor_id: int, object_id: int) -> DataObject:
    return get_owned(session, DataObject, object_id, vendor_id=vendor_id)


def held_object(session: Session, *, data_object: DataObject) -> DataObject | None:
    """The object as it is now, locked until the transaction ends; None if another removed it meanwhile. A change
    made from it then keeps what another change at the same moment wrote (SetStringValue keeps an IncrementIntValue)."""
    return session.exec(select(DataObject).where(DataObject.id == data_object.id).with_for_update()
                        .execution_options(populate_existing=True)).first()


def find_by_name(session: Session, *, vendor_id: int, name: str, referencer_type: int = USER,
                 referencer_id: int = 0) -> DataObject | None:
    return session.exec(select(DataObject).where(
        DataObject.vendor_id == vendor_id, DataObject.referencer_type == referencer_type,
        DataObject.referencer_id == referencer_id, DataObject.name == name).limit(1)).first()


def add_object(session: Session, *, vendor_id: int, name: str, string_value: str = "", int_value: int = 0,
               referencer_type: int = USER, referencer_id: int = 0, actor: str, ip: str = "",
               owner_is_new: bool = False, check_for_duplicates: bool = False) -> DataObject:
    """A new data object; `owner_is_new` (its product or key made in this transaction) skips holding the owner and
    looking for one of the same reserved name, which it cannot have yet; `check_for_duplicates` (the Web API's
    CheckForDuplicates) refuses any name the owner has already. The owner is held first: an owner being removed
    meanwhile is waited for, then refused, never left with an object whose owner is gone."""
    _validate(name, string_value, int_value)
    _check_configuration(referencer_type, name, string_value)
    owner = {"vendor_id": vendor_id, "referencer_type": referencer_type, "referencer_id": referencer_id}
    if not owner_is_new and not _hold_owner(session, **owner):
        raise DomainError("The MachineCode is not activated on this key." if referencer_type == MACHINE else
                          "It was removed a moment ago: there is nothing to add a data object to.")
    if check_for_duplicates and find_by_name(session, name=name, **owner):
        raise DomainError(f"There is already a data object named {name}.", field="name")
    reserved = name.startswith(RESERVED_PREFIX) and not owner_is_new
    if reserved and not check_for_duplicates and find_by_name(session, name=name, **owner):
        raise DomainError(f"There is already a data object named {name}: edit it instead.", field="name")
    data_object = DataObject(vendor_id=vendor_id, name=name, string_value=string_value, int_value=int_value,
                             referencer_type=referencer_type, referencer_id=referencer_id)
    session.add(data_object)
    _flush_or_explain(session, name)
    record_change(session, vendor_id=vendor_id, actor=actor, action="data_object.added",
                  subject_type="data_object", subject_id=data_object.id, after=snapshot(data_object), ip=ip)
    return data_object


_OWNER_ROWS = {USER: Vendor, PRODUCT: Product, KEY: LicenseKey, MACHINE: ActivatedMachine}


def _hold_owner(session: Session, *, vendor_id: int, referencer_type: int, referencer_id: int) -> bool:
    """Lock the owner's row (the vendor's for its account's objects) until the transaction ends, so that it is not
    removed under a new object, and adds that look for a duplicate name look one after the other (PostgreSQL; SQLite
    lets one writer in at a time); a unique index cannot say it, as duplicates are allowed without looking. FOR NO
    KEY UPDATE: rows that refer to the owner (a machine activated on the key, an audit row) may still be written
    meanwhile. False when the owner is gone (removed by a transaction this one waited for)."""
    model = _OWNER_ROWS[referencer_type]
    row_id = vendor_id if referencer_type == USER else referencer_id
    return session.execute(select(model.id).where(model.id == row_id).with_for_update(key_share=True)).first() \
        is not None


def update_object(session: Session, *, data_object: DataObject, name: str, string_value: str, int_value: int,
                  actor: str, ip: str = "") -> DataObject:
    _validate(name, string_value, int_value)
    if (name, string_value) != (data_object.name, data_object.string_value):
        _check_configuration(data_object.referencer_type, name, string_value)
    before = snapshot(data_object)
    data_object.name, data_object.string_value, data_object.int_value = name, string_value, int_value
    session.add(data_object)
    _flush_or_explain(session, name)
    record_change(session, vendor_id=data_object.vendor_id, actor=actor, action="data_object.updated",
                  subject_type="data_object", subject_id=data_object.id, before=before,
                  after=snapshot(data_object), ip=ip)
    return data_object


def delete_object(session: Session, *, data_object: DataObject, actor: str, ip: str = "") -> None:
    record_change(session, vendor_id=data_object.vendor_id, actor=actor, action="data_object.deleted",
                  subject_type="data_object", subject_id=data_object.id, before=snapshot(data_object), ip=ip)
    session.delete(data_object)


def delete_objects_of(session: Session, *, vendor_id: int, referencer_type: int, referencer_ids) -> None:
    """Remove the data objects of the given products or keys (`referencer_ids` may be a subquery)."""
    session.execute(delete(DataObject).where(DataObject.vendor_id == vendor_id,
                                             DataObject.referencer_type == referencer_type,
                                             DataObject.referencer_id.in_(referencer_ids)))


def _flush_or_explain(session: Session, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:
        raise DomainError(f"There is already a data object named {name}.", field="name") from error


OWNER_TYPES = {"product": PRODUCT, "key": KEY}


def owner_of(session: Session, *, vendor_id: int, referencer_type: int, referencer_id: int):
    """The vendor's product or key a data object hangs on (None for another vendor's, or none)."""
    model = {PRODUCT: Product, KEY: LicenseKey}.get(referencer_type)
    return find_owned(session, model, referencer_id, vendor_id=vendor_id) if model is not None else None


def product_of(session: Session, *, data_object: DataObject) -> int | None:
    """The id of the product a data object hangs on: its own, its key's or its machine's key's; None for the
    account's (or an owner gone meanwhile)."""
    if data_object.referencer_type == PRODUCT:
        return data_object.referencer_id
    if data_object.referencer_type == KEY:
        key = owner_of(session, vendor_id=data_object.vendor_id, referencer_type=KEY,
                       referencer_id=data_object.referencer_id)
        return key.product_id if key is not None else None
    if data_object.referencer_type == MACHINE:
        found = machine_of(session, vendor_id=data_object.vendor_id, machine_id=data_object.referencer_id)
        return found[1].product_id if found is not None else None
    return None


def machine_of(session: Session, *, vendor_id: int, machine_id: int) -> tuple[ActivatedMachine, LicenseKey] | None:
    """A MACHINE data object's machine and the key it is activated on (None for another vendor's, or none)."""
    return session.exec(select(ActivatedMachine, LicenseKey).join(LicenseKey, LicenseKey.id == ActivatedMachine.key_id)
                        .where(ActivatedMachine.id == machine_id, LicenseKey.vendor_id == vendor_id)).first()


def add_to_int_value(session: Session, *, data_object: DataObject, amount: int, bound: int | None = None,
                     actor: str, ip: str = "") -> DataObject:
    """Add `amount` (negative to take away) in one conditional UPDATE, so simultaneous calls never lose one; the
    value stays a 32-bit integer, and with `bound` never passes it (above it adding, below it taking away)."""
    value = DataObject.int_value + amount
    # Compared as 64-bit numbers: PostgreSQL refuses a 32-bit sum that overflows before WHERE could say no.
    wide = cast(DataObject.int_value, BigInteger) + amount
    limits = [wide >= INT32[0], wide <= INT32[1]]
    if bound is not None:
        limits.append(wide <= bound if amount >= 0 else wide >= bound)
    changed = session.execute(update(DataObject).where(DataObject.id == data_object.id, *limits)
                              .values(int_value=value).returning(DataObject.int_value)).first()
    if changed is None:
        raise DomainError("That would take the value past its bound.", field="int_value")
    session.refresh(data_object)
    record_change(session, vendor_id=data_object.vendor_id, actor=actor, action="data_object.updated",
                  subject_type="data_object", subject_id=data_object.id, before={"int_value": changed[0] - amount},
                  after={"int_value": changed[0]}, ip=ip)
    return data_object
