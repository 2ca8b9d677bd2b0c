"""The data-object methods, each in three variants: on the vendor, a product or a key (`ReferencerType`,
`ReferencerId`, or for a change an `Id` alone), `...ToKey` (ProductId, Key) and `...ToMachineCode` (ProductId, Key,
MachineCode)."""

from portal.api.activation import MID_MAX, named_key
from portal.api.answers import data_object, ok
from portal.api.calls import Call, api_method
from portal.api.params import ApiError
from portal.dataobjects import services as data
from portal.domain import find_owned
from portal.keys.services import find_machine
from portal.models import DATA_STRING_MAX, NAME_MAX, DataObject


def _plain_owner(call: Call) -> tuple[int, int]:
    """The owner named by ReferencerType and ReferencerId, if it is the vendor's and within the token's reach: a
    token limited to one product reaches that product and its keys (and their machines), not the vendor's account."""
    referencer_type = _referencer_type(call)
    referencer_id = call.params.record_id("ReferencerId", required=False)
    if referencer_type == data.PRODUCT:
        call.product("ReferencerId")
    elif referencer_type == data.KEY:
        key = data.owner_of(call.session, vendor_id=call.vendor_id, referencer_type=data.KEY,
                            referencer_id=referencer_id)
        if key is None or call.token.product_id not in (None, key.product_id):
            raise _nothing(referencer_type, referencer_id)
    elif call.token.product_id is not None:
        raise ApiError("This access token is limited to one product: it reaches that product, its keys and their "
                       "machines, not your account's data objects (ReferencerType 0).", 403)
    elif referencer_id != 0:
        raise _nothing(referencer_type, referencer_id)
    return referencer_type, referencer_id


# .NET's DataObjectType, which its client sends by name.
_REFERENCER_TYPES = {"user": data.USER, "product": data.PRODUCT, "key": data.KEY}


def _referencer_type(call: Call) -> int:
    """ReferencerType by name in any case (User, Product, Key) or by number (0, 1, 2); 0 when absent."""
    value = call.params.raw("ReferencerType")
    if value is None:
        return data.USER
    value = value.strip().lower()
    if value in _REFERENCER_TYPES:
        return _REFERENCER_TYPES[value]
    if value.isascii() and value.isdecimal() and len(value) <= 20 and int(value) in _REFERENCER_TYPES.values():
        return int(value)
    raise ApiError("The parameter ReferencerType must be User (0), Product (1) or Key (2).")


def _nothing(referencer_type: int, referencer_id: int) -> ApiError:
    return ApiError(f"You have nothing of ReferencerType {referencer_type} with the ReferencerId {referencer_id}.")


def _key_owner(call: Call) -> tuple[int, int]:
    _product, key = named_key(call)
    return data.KEY, key.id


def _machine_owner(call: Call) -> tuple[int, int]:
    _product, key = named_key(call)
    mid = call.params.text("MachineCode", required=True, max_length=MID_MAX)
    machine = find_machine(call.session, key=key, mid=mid)
    if machine is None:
        raise ApiError("The MachineCode is not activated on this key.")
    return data.MACHINE, machine.id


def _object(call: Call, owner_of, *, by_id_alone: bool = False) -> DataObject:
    """The owner's data object the call names by Id, or else by Name. With `by_id_alone` (the plain variant, whose
    .NET models send only Id), an Id without ReferencerType and ReferencerId names the vendor's object of that id
    wherever it hangs, if the token reaches it."""
    object_id = call.params.record_id("Id", required=False)
    if object_id and by_id_alone and all(call.params.raw(name) is None for name in ("ReferencerType", "ReferencerId")):
        return _reachable_object(call, object_id)
    owner = owner_of(call)
    if object_id:
        found = find_owned(call.session, DataObject, object_id, vendor_id=call.vendor_id)
        if found is not None and (found.referencer_type, found.referencer_id) != owner:
            found = None
    else:
        name = call.params.text("Name", required=True, max_length=NAME_MAX)
        found = data.find_by_name(call.session, vendor_id=call.vendor_id, name=name, referencer_type=owner[0],
                                  referencer_id=owner[1])
    if found is None:
        raise _no_object()
    return found


def _reachable_object(call: Call, object_id: int) -> DataObject:
    """The vendor's data object of this id, wherever it hangs, if the token reaches it (as `_plain_owner` judges
    reach); another vendor's, or one out of reach, is answered as no object at all."""
    found = find_owned(call.session, DataObject, object_id, vendor_id=call.vendor_id)
    if found is None or call.token.product_id not in (None, data.product_of(call.session, data_object=found)):
        raise _no_object()
    return found


def _no_object() -> ApiError:
    return ApiError("No data object here has that Id or Name.")


def _methods(suffix: str, owner_of) -> None:
    """Register the data-object methods of one variant."""
    by_id_alone = owner_of is _plain_owner

    def named(call: Call) -> DataObject:
        held = data.held_object(call.session, data_object=_object(call, owner_of, by_id_alone=by_id_alone))
        if held is None:  # removed by another call a moment ago
            raise _no_object()
        return held

    @api_method(f"data/AddDataObject{suffix}", group="dataobjects")
    def add(call: Call):
        owner = owner_of(call)
        made = data.add_object(call.session, vendor_id=call.vendor_id, referencer_type=owner[0],
                               referencer_id=owner[1], actor=call.actor, ip=call.ip,
                               name=call.params.text("Name", required=True, max_length=NAME_MAX),
                               string_value=call.params.text("StringValue", max_length=DATA_STRING_MAX),
                               int_value=call.params.integer("IntValue"),
                               check_for_duplicates=call.params.flag("CheckForDuplicates"))
        return ok(id=made.id)

    @api_method(f"data/ListDataObjects{suffix}", group="dataobjects", writes=False)
    def listed(call: Call):
        owner = owner_of(call)
        contains = call.params.text("Contains", max_length=NAME_MAX)
        found = data.list_objects(call.session, vendor_id=call.vendor_id, referencer_type=owner[0],
                                  referencer_id=owner[1])
        return ok(dataObjects=[data_object(obj) for obj in found if contains in obj.name])

    def set_value(call: Call, *, string: bool):
        obj = named(call)
        string_value = call.params.text("StringValue", max_length=DATA_STRING_MAX) if string else obj.string_value
        int_value = obj.int_value if string else call.params.integer("IntValue", required=True)
        data.update_object(call.session, data_object=obj, name=obj.name, string_value=string_value,
                           int_value=int_value, actor=call.actor, ip=call.ip)
        return ok()

    api_method(f"data/SetStringValue{suffix}", group="dataobjects")(lambda call: set_value(call, string=True))
    api_method(f"data/SetIntValue{suffix}", group="dataobjects")(lambda call: set_value(call, string=False))

    @api_method(f"data/RemoveDataObject{suffix}", group="dataobjects")
    def remove(call: Call):
        data.delete_object(call.session, data_object=named(call), actor=call.actor, ip=call.ip)
        return ok()

    def add_to(call: Call, sign: int):
        obj = named(call)
        amount = call.params.integer("IntValue", required=True, minimum=0)
        bound = call.params.integer("Bound") if call.params.flag("EnableBound") else None
        data.add_to_int_value(call.session, data_object=obj, amount=sign * amount, bound=bound, actor=call.actor,
                              ip=call.ip)
        return ok()

    api_method(f"data/IncrementIntValue{suffix}", group="dataobjects")(lambda call: add_to(call, 1))
    api_method(f"data/DecrementIntValue{suffix}", group="dataobjects")(lambda call: add_to(call, -1))


for _suffix, _owner in (("", _plain_owner), ("ToKey", _key_owner), ("ToMachineCode", _machine_owner)):
    _methods(_suffix, _owner)
