"""The activation methods: key/Activate, key/GetKey, key/Deactivate, key/CreateTrialKey."""

from portal.api.answers import ok
from portal.api.calls import Call, api_method
from portal.api.license_answers import license_answer
from portal.api.params import ApiError
from portal.domain import NO_SUCH_KEY, NO_SUCH_PRODUCT, NotFound
from portal.keys import license_state
from portal.keys import services as keys
from portal.models import NAME_MAX, LicenseKey

MAX_FLOATING_SECONDS = 10 * 365 * 86400
MID_MAX = 180


def named_key(call: Call):
    """The key the call names by ProductId and Key, if it is the vendor's and the token may reach it."""
    product = call.product()
    text = call.params.text("Key", required=True, max_length=100)
    return product, keys.key_by_text(call.session, product_id=product.id, text=text)


def _license(call: Call):
    """The row of the key the call names (with its customer), as `named_key` finds it, in one statement."""
    product_id = call.product_id()
    text = call.params.text("Key", max_length=100)
    try:
        key = license_state.key_of_product(call.session, vendor_id=call.vendor_id, product_id=product_id, text=text)
    except license_state.NoSuchProduct:
        raise ApiError(NO_SUCH_PRODUCT) from None
    if key is None:
        call.params.text("Key", required=True)  # a missing Key is named once the product is known to be right
        raise NotFound(NO_SUCH_KEY)
    return key


@api_method("key/Activate", group="activation", writes=False, orm=False)
def activate(call: Call):
    """Reads only when the machine is known and was seen within a minute (nothing would change); otherwise the
    activation is `activate_machine`'s, in a write transaction of its own, which re-reads the key locked."""
    key = _license(call)
    params = call.params
    mid = params.text("MachineCode", required=True, max_length=MID_MAX)
    friendly_name = params.text("FriendlyName", max_length=NAME_MAX)
    floating_seconds = params.integer("FloatingTimeInterval", minimum=0, maximum=MAX_FLOATING_SECONDS)
    max_overdraft = params.integer("MaxOverdraft", minimum=0, maximum=10_000)
    machines = license_state.machines_of_key(call.session, key_id=key.id)
    if (floating_seconds or key.block or key.expires <= call.now
            or not license_state.seen_lately(machines, mid=mid, ip=call.ip, friendly_name=friendly_name,
                                             now=call.now)):
        writer = call.writer()
        locked = writer.get(LicenseKey, key.id)
        if locked is None:
            raise NotFound(NO_SUCH_KEY)
        machine = keys.activate_machine(writer, key=locked, mid=mid, ip=call.ip,
                                        actor=call.actor, now=call.now, friendly_name=friendly_name,
                                        floating_seconds=floating_seconds, max_overdraft=max_overdraft)
        writer.flush()
        if locked.expires != key.expires:  # a new machine started the key's countdown (keys/countdown.py)
            key = license_state.key_of_product(writer, vendor_id=call.vendor_id, product_id=key.product_id,
                                               text=key.key)
        machines = license_state.machines_of_key(writer, key_id=key.id)
    else:
        machine = next(m for m in machines if m.mid == mid)
    return license_answer(call, key, machines, this_machine=machine)


@api_method("key/GetKey", group="activation", writes=False, orm=False)
def get_key(call: Call):
    key = _license(call)
    return license_answer(call, key, license_state.machines_of_key(call.session, key_id=key.id))


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
