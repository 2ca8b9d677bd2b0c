"""The data-object methods, each in three variants: on the vendor, a product or a key (`ReferencerType`,
`ReferencerId`), `...ToKey` (ProductId, Key) and `...ToMachineCode` (ProductId, Key, MachineCode)."""

from portal.api.activation import MID_MAX, named_key
from portal.api.answers import data_object, ok
from portal.api.calls import Call, api_method
from portal.api.params import ApiError
from portal.dataobjects import services as data
from portal.keys.services import find_machine
from portal.models import DATA_STRING_MAX, NAME_MAX, DataObject


def _plain_owner(call: Call) -> tuple[int, int]:
    """The owner named by ReferencerType and ReferencerId, if it is the vendor's and within the token's reach: a
    token limited to one product reaches that product and its keys (and their machines), not the vendor's account."""
    referencer_type = call.params.integer("ReferencerType", minimum=0, maximum=2)
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


def _object(call: Call, owner: tuple[int, int]) -> DataObject:
    """The owner's data object the call names by Id, or else by Name."""
    object_id = call.params.record_id("Id", required=False)
    if object_id:
        found = data.get_object(call.session, vendor_id=call.vendor_id, object_id=object_id) \
            if _owned_id(call, object_id, owner) else None
    else:
        name = call.params.text("Name", required=True, max_length=NAME_MAX)
        found = data.find_by_name(call.session, vendor_id=call.vendor_id, name=name, referencer_type=owner[0],
                                  referencer_id=owner[1])
    if found is None:
        raise ApiError("No data object here has that Id or Name.")
    return found


def _owned_id(call: Call, object_id: int, owner: tuple[int, int]) -> bool:
    obj = call.session.get(DataObject, object_id)
    return obj is not None and obj.vendor_id == call.vendor_id and (obj.referencer_type, obj.referencer_id) == owner


def _methods(suffix: str, owner_of) -> None:
    """Register the data-object methods of one variant."""

    @api_method(f"data/AddDataObject{suffix}", group="dataobjects")
    def add(call: Call):
        owner = owner_of(call)
        if owner[0] == data.MACHINE and not data.machine_held(call.session, machine_id=owner[1]):
            raise ApiError("The MachineCode is not activated on this key.")  # deactivated a moment ago
        name = call.params.text("Name", required=True, max_length=NAME_MAX)
        if call.params.flag("CheckForDuplicates") and data.find_by_name(
                call.session, vendor_id=call.vendor_id, name=name, referencer_type=owner[0], referencer_id=owner[1]):
            raise ApiError(f"There is already a data object named {name}.")
        made = data.add_object(call.session, vendor_id=call.vendor_id, name=name, referencer_type=owner[0],
                               referencer_id=owner[1], actor=call.actor, ip=call.ip,
                               string_value=call.params.text("StringValue", max_length=DATA_STRING_MAX),
                               int_value=call.params.integer("IntValue"))
        return ok(id=made.id)

    @api_method(f"data/ListDataObjects{suffix}", group="dataobjects", writes=False)
    def listed(call: Call):
        owner = owner_of(call)
        contains = call.params.text("Contains", max_length=NAME_MAX)
        found = data.list_objects(call.session, vendor_id=call.vendor_id, referencer_type=owner[0],
                                  referencer_id=owner[1])
        return ok(dataObjects=[data_object(obj) for obj in found if contains in obj.name])

    def set_value(call: Call, *, string: bool):
        obj = _object(call, owner_of(call))
        string_value = call.params.text("StringValue", max_length=DATA_STRING_MAX) if string else obj.string_value
        int_value = obj.int_value if string else call.params.integer("IntValue", required=True)
        data.update_object(call.session, data_object=obj, name=obj.name, string_value=string_value,
                           int_value=int_value, actor=call.actor, ip=call.ip)
        return ok()

    api_method(f"data/SetStringValue{suffix}", group="dataobjects")(lambda call: set_value(call, string=True))
    api_method(f"data/SetIntValue{suffix}", group="dataobjects")(lambda call: set_value(call, string=False))

    @api_method(f"data/RemoveDataObject{suffix}", group="dataobjects")
    def remove(call: Call):
        data.delete_object(call.session, data_object=_object(call, owner_of(call)), actor=call.actor, ip=call.ip)
        return ok()

    def add_to(call: Call, sign: int):
        obj = _object(call, owner_of(call))
        amount = call.params.integer("IntValue", required=True, minimum=0)
        bound = call.params.integer("Bound") if call.params.flag("EnableBound") else None
        data.add_to_int_value(call.session, data_object=obj, amount=sign * amount, bound=bound, actor=call.actor,
                              ip=call.ip)
        return ok()

    api_method(f"data/IncrementIntValue{suffix}", group="dataobjects")(lambda call: add_to(call, 1))
    api_method(f"data/DecrementIntValue{suffix}", group="dataobjects")(lambda call: add_to(call, -1))


for _suffix, _owner in (("", _plain_owner), ("ToKey", _key_owner), ("ToMachineCode", _machine_owner)):
    _methods(_suffix, _owner)
