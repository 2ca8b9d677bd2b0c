"""The activation methods: key/Activate, key/GetKey, key/Deactivate, key/CreateTrialKey."""

from portal.api.answers import ok
from portal.api.calls import Call, api_method
from portal.api.license_answers import license_answer
from portal.keys import services as keys
from portal.models import NAME_MAX

MAX_FLOATING_SECONDS = 10 * 365 * 86400
MID_MAX = 180


def named_key(call: Call):
    """The key the call names by ProductId and Key, if it is the vendor's and the token may reach it."""
    product = call.product()
    text = call.params.text("Key", required=True, max_length=100)
    return product, keys.key_by_text(call.session, product_id=product.id, text=text)


@api_method("key/Activate", group="activation")
def activate(call: Call):
    _product, key = named_key(call)
    params = call.params
    mid = params.text("MachineCode", required=True, max_length=MID_MAX)
    keys.activate_machine(call.session, key=key, mid=mid, ip=call.ip, actor=call.actor, now=call.now,
                          friendly_name=params.text("FriendlyName", max_length=NAME_MAX),
                          floating_seconds=params.integer("FloatingTimeInterval", minimum=0,
                                                          maximum=MAX_FLOATING_SECONDS),
                          max_overdraft=params.integer("MaxOverdraft", minimum=0, maximum=10_000))
    return license_answer(call, key, writes=True)


@api_method("key/GetKey", group="activation", writes=False)
def get_key(call: Call):
    _product, key = named_key(call)
    return license_answer(call, key, writes=False)


@api_method("key/Deactivate", group="activation")
def deactivate(call: Call):
    _product, key = named_key(call)
    mid = call.params.text("MachineCode", required=True, max_length=MID_MAX)
    machine = keys.find_machine(call.session, key=key, mid=mid, floating=call.params.flag("Floating"))
    if machine is None:
        return ok("The machine code was not activated on this key.")
    keys.deactivate_machine(call.session, key=key, machine_id=machine.id, actor=call.actor, ip=call.ip)
    return ok()


@api_method("key/CreateTrialKey", group="activation")
def create_trial_key(call: Call):
    product = call.product()
    mid = call.params.text("MachineCode", required=True, max_length=MID_MAX)
    key = keys.create_trial_key(call.session, product=product, mid=mid, actor=call.actor, ip=call.ip,
                                friendly_name=call.params.text("FriendlyName", max_length=NAME_MAX))
    return ok(key=key.key)
