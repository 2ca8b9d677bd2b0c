"""The key methods: CreateKey, ExtendLicense, BlockKey, UnblockKey, ChangeCustomer, MachineLockLimit,
ChangeNotes, AddFeature, RemoveFeature. A key made for or moved to a customer mails them "a new license is waiting"
(a link to the portal, never the key) as the vendor's pages do, unless the vendor turned that mail off."""

from portal.api.activation import named_key
from portal.api.answers import ok
from portal.api.calls import Call, api_method
from portal.api.customer_methods import customer_text
from portal.api.params import ApiError
from portal.customers import services as customers
from portal.keys import services as keys
from portal.keys.managed import block_by_vendor
from portal.keys.notify import announce_new_license
from portal.models import FEATURES, KEY_NOTES_MAX, Customer, LicenseKey

MAX_KEYS_PER_CALL = 1000


def _customer_id(call: Call, name: str = "CustomerId") -> int | None:
    """The vendor's customer the call names (0 or none: no customer)."""
    customer_id = call.params.record_id(name, required=False) or None
    if customer_id is None:
        return None
    customer = keys.chosen_customer(call.session, vendor_id=call.vendor_id, customer_id=customer_id)
    if customer is None:
        raise ApiError(f"No customer of yours has the {name} {customer_id}.")
    _check_reach(call, customer)
    return customer_id


def _check_reach(call: Call, customer: Customer) -> None:
    """A token limited to one product gives its keys to customers with a key of that product, and to the new ones
    it makes (NewCustomer): a customer with no key yet could otherwise be taken into its reach, then changed."""
    products = call.reach_of(customer)
    if products is not None and call.token.product_id not in products:
        raise ApiError("This access token is limited to one product, and this customer has no key of it (a key for "
                       "a new customer: NewCustomer with its Name and Email).", 403)


def _new_customer(call: Call) -> Customer:
    """NewCustomer's customer; or with AddOrUseExistingCustomer, the vendor's customer of that Email if there is one
    (as the token may reach), else a new one."""
    if "customers" not in call.token.scopes.split():
        raise ApiError("NewCustomer needs a token that may also call customers methods.", 403)
    params = call.params
    name, email, company = (customer_text(call, field) for field in ("Name", "Email", "CompanyName"))
    if not params.flag("NewCustomer") and email:
        customers.one_customer_per_email(call.session, vendor_id=call.vendor_id, email=email)
        existing = customers.customer_by_email(call.session, vendor_id=call.vendor_id, email=email)
        if existing is not None:
            _check_reach(call, existing)
            return existing
    return customers.create_customer(
        call.session, vendor_id=call.vendor_id, actor=call.actor, ip=call.ip, origin="api",
        encryptor=call.encryptor, enable_customer_association=params.flag("EnableCustomerAssociation"),
        name=name, email=email, company_name=company,
        allow_activation_management=params.flag("AllowActivationManagement"))


@api_method("key/CreateKey", group="keys")
def create_key(call: Call):
    params = call.params
    product = call.product()
    customer_id = _customer_id(call)
    if params.flag("NewCustomer") or params.flag("AddOrUseExistingCustomer"):
        customer_id = _new_customer(call).id
    period = params.integer("Period", default=30, minimum=0, maximum=keys.MAX_PERIOD_DAYS)
    settings = keys.KeySettings(
        # Period=0, what the official client sends when given none: a key that does not expire (this server refuses
        # an expired key at activation, where Cryptolens leaves expiry to the vendor's software).
        period=period or keys.MAX_PERIOD_DAYS,
        features={name: params.flag(name.upper()) for name in FEATURES},
        notes=params.text("Notes", max_length=KEY_NOTES_MAX),
        max_no_of_machines=params.integer("MaxNoOfMachines", minimum=0, maximum=1_000_000),
        trial_activation=params.flag("TrialActivation"), customer_id=customer_id)
    # 0, what .NET's CreateKeyModel sends when NoOfKeys is not set, is one key, as no NoOfKeys is.
    count = params.integer("NoOfKeys", default=1, minimum=0, maximum=MAX_KEYS_PER_CALL) or 1
    made = [keys.create_key(call.session, product=product, settings=settings, actor=call.actor, ip=call.ip)
            for _ in range(count)]
    if params.flag("Block"):
        for key in made:
            keys.set_blocked(call.session, key=key, blocked=True, actor=call.actor, ip=call.ip)
    else:  # as on the vendor's pages: one mail for the keys made together, if the vendor mails about new licenses
        announce_new_license(call.session, key=made[0], count=count)
    data = {"key": made[0].key, "customerId": customer_id or 0}
    if count > 1:
        data["keys"] = [key.key for key in made]
    return ok(**data)


@api_method("key/ExtendLicense", group="keys")
def extend_license(call: Call):
    _product, key = named_key(call)
    days = call.params.integer("NoOfDays", required=True)
    keys.extend_key(call.session, key=key, days=days, actor=call.actor, ip=call.ip)
    return ok("The license has been extended.")


def _set_block(call: Call, blocked: bool):
    _product, key = named_key(call)
    block_by_vendor(call.session, key=key, blocked=blocked, actor=call.actor, ip=call.ip)
    return ok("The key is blocked." if blocked else "The key is unblocked.")


@api_method("key/BlockKey", group="keys")
def block_key(call: Call):
    return _set_block(call, True)


@api_method("key/UnblockKey", group="keys")
def unblock_key(call: Call):
    return _set_block(call, False)


@api_method("key/ChangeCustomer", group="keys")
def change_customer(call: Call):
    _product, key = named_key(call)
    keys.change_customer(call.session, key=key, customer_id=_customer_id(call), actor=call.actor, ip=call.ip,
                         notify=True)
    return ok("The customer has been changed.")


def _change_details(call: Call, key: LicenseKey, **changes):
    keys.change_details(call.session, key=key, actor=call.actor, ip=call.ip, **changes)
    return ok("The key has been changed.")


@api_method("key/MachineLockLimit", group="keys")
def machine_lock_limit(call: Call):
    _product, key = named_key(call)
    limit = call.params.integer("NumberOfMachines", required=True, minimum=0, maximum=1_000_000)
    return _change_details(call, key, max_no_of_machines=limit)


@api_method("key/ChangeNotes", group="keys")
def change_notes(call: Call):
    _product, key = named_key(call)
    return _change_details(call, key, notes=call.params.text("Notes", max_length=KEY_NOTES_MAX))


def _set_feature(call: Call, on: bool):
    _product, key = named_key(call)
    feature = call.params.integer("Feature", required=True, minimum=1, maximum=8)
    call.session.refresh(key, with_for_update=True)  # the other features as they are now, held: calls at once all count
    features = {name: getattr(key, name) for name in FEATURES} | {f"f{feature}": on}
    return _change_details(call, key, features=features)


@api_method("key/AddFeature", group="keys")
def add_feature(call: Call):
    return _set_feature(call, True)


@api_method("key/RemoveFeature", group="keys")
def remove_feature(call: Call):
    return _set_feature(call, False)
