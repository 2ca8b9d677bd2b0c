"""The customer methods: AddCustomer, EditCustomer, GetCustomers, RemoveCustomer, GetCustomerLicenses,
GetCustomerLicensesBySecret."""

from sqlmodel import select

from portal.api.answers import customer_object, key_object, ok
from portal.api.calls import Call, api_method
from portal.api.params import ApiError
from portal.customer_search.services import search_customers
from portal.customers import services as customers
from portal.domain import DomainError, NotFound
from portal.keys.services import keys_of_customer, machines_of
from portal.models import NAME_MAX, Customer, Vendor
from portal.rules import is_single_line, valid_email
from portal.urls import absolute_url

MAX_LISTED = 100
# EditCustomer's parameters: (the API's name, the record's field, its kind).
EDITABLE = (("Name", "name", "text"), ("Email", "email", "text"), ("CompanyName", "company_name", "text"),
            ("AllowActivationManagement", "allow_activation_management", "flag"),
            ("AllowMultipleUserAssociation", "allow_multiple_user_association", "flag"),
            ("MaxNoOfDevices", "max_no_of_devices", "count"))


def _portal_link(call: Call, customer: Customer) -> str | None:
    code = customers.association_code(customer, call.encryptor)
    if code is None:
        return None
    slug = call.session.get(Vendor, call.vendor_id).slug
    return absolute_url("signup.associate", vendor_slug=slug, id=customer.id, auth=code)


def customer_text(call: Call, name: str) -> str:
    """Name, Email or CompanyName as the vendor's customer form takes it: one line without control characters (it
    may end up in a mail header), and an e-mail address that is one; empty when not given."""
    value = call.params.text(name, max_length=NAME_MAX).strip()
    if value and name == "Email":
        try:
            return valid_email(value, max_length=NAME_MAX)
        except DomainError as error:
            raise ApiError(f"Email is not a valid e-mail address: {value[:60]!r}.") from error
    if not is_single_line(value):
        raise ApiError(f"{name} must be one line without control characters.")
    return value


def _fields(call: Call, *, only_given: bool) -> dict:
    values = {}
    for name, attribute, kind in EDITABLE:
        if only_given and call.params.raw(name) is None:
            continue
        if kind == "text":
            values[attribute] = customer_text(call, name)
        elif kind == "flag":
            values[attribute] = call.params.flag(name)
        else:
            values[attribute] = call.params.integer(name, minimum=0, maximum=1_000_000)
    return values


def _customer(call: Call, name: str = "CustomerId", *, changing: bool = False) -> Customer:
    """The vendor's customer the call names. A token limited to one product reaches only customers with a key of
    that product, and changes or removes only those whose keys are all of it."""
    customer_id = call.params.record_id(name)
    try:
        customer = customers.get_customer(call.session, vendor_id=call.vendor_id, customer_id=customer_id)
    except NotFound as error:
        raise ApiError(f"No customer of yours has the {name} {customer_id}.") from error
    _within_reach(call, customer, changing=changing)
    return customer


def _within_reach(call: Call, customer: Customer, *, changing: bool) -> None:
    product_id, products = call.token.product_id, call.reach_of(customer)
    if products is None:
        return
    if product_id not in products:
        raise ApiError("This access token is limited to one product, and this customer has no key of it.", 403)
    if changing and products != {product_id}:
        raise ApiError("This access token is limited to one product, and this customer also has keys of other "
                       "products: change it with a token for all products.", 403)


@api_method("customer/AddCustomer", group="customers")
def add_customer(call: Call):
    customer = customers.create_customer(
        call.session, vendor_id=call.vendor_id, actor=call.actor, ip=call.ip, origin="api",
        encryptor=call.encryptor, enable_customer_association=call.params.flag("EnableCustomerAssociation"),
        **_fields(call, only_given=False))
    return ok(customerId=customer.id, secret=customer.secret, portalLink=_portal_link(call, customer))


@api_method("customer/EditCustomer", group="customers")
def edit_customer(call: Call):
    customer = _customer(call, changing=True)
    customers.update_customer(call.session, customer=customer, actor=call.actor, ip=call.ip,
                              **_fields(call, only_given=True))
    if call.params.raw("EnableCustomerAssociation") is not None:
        action = "enable" if call.params.flag("EnableCustomerAssociation") else "disable"
        customers.set_association(call.session, customer=customer, action=action, encryptor=call.encryptor,
                                  actor=call.actor, ip=call.ip)
    return ok("The customer has been changed.", portalLink=_portal_link(call, customer))


@api_method("customer/GetCustomers", group="customers", writes=False)
def get_customers(call: Call):
    params = call.params
    if params.raw("CustomerId") not in (None, "0"):  # .NET sends CustomerId=0 when it names none
        return ok(customers=[customer_object(_customer(call))])
    if call.token.product_id is not None:
        raise ApiError("This access token is limited to one product: it cannot list all your customers (name one "
                       "with CustomerId, or use a token for all products).", 403)
    page = search_customers(call.session, vendor_id=call.vendor_id, query=params.text("Search", max_length=NAME_MAX),
                            # .NET's unset Limit is 0, "all": as many as an answer lists
                            limit=params.integer("Limit", default=MAX_LISTED, minimum=0, maximum=MAX_LISTED)
                            or MAX_LISTED)
    return ok(customers=[customer_object(row) for row in page.customers])


@api_method("customer/RemoveCustomer", group="customers")
def remove_customer(call: Call):
    customers.delete_customer(call.session, customer=_customer(call, changing=True), actor=call.actor, ip=call.ip)
    return ok("The customer has been removed.")


def _licenses(call: Call, customer: Customer):
    found = [key for key in keys_of_customer(call.session, customer=customer)
             if call.token.product_id in (None, key.product_id)]
    machines = machines_of(call.session, key_ids=[key.id for key in found])
    return ok(customer=customer_object(customer),
              licenseKeys=[key_object(key, customer=customer, machines=machines[key.id], now=call.now)
                           for key in found])


@api_method("customer/GetCustomerLicenses", group="customers", writes=False)
def get_customer_licenses(call: Call):
    return _licenses(call, _customer(call))


@api_method("customer/GetCustomerLicensesBySecret", group="customers", writes=False)
def get_customer_licenses_by_secret(call: Call):
    secret = call.params.text("Secret", required=True, max_length=64)
    customer = call.session.exec(select(Customer).where(Customer.vendor_id == call.vendor_id,
                                                        Customer.secret == secret)).first()
    if customer is None:
        raise ApiError("No customer of yours has this Secret.")
    _within_reach(call, customer, changing=False)
    return _licenses(call, customer)
