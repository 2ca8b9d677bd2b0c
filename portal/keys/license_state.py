"""A key as the licensed program asks for it (the Web API's key/Activate and key/GetKey): the product check, the
key and its customer in one prebuilt statement, then its machines and its data objects. Plain rows, no ORM objects:
these run on every activation, where building statements and ORM objects cost more than the queries themselves; each
reads on an ORM session or on a plain connection (the Web API's key/Activate and key/GetKey use one)."""

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Connection, and_, bindparam, select
from sqlmodel import Session

from portal.dataobjects.services import KEY
from portal.models import ActivatedMachine, Customer, DataObject, LicenseKey, Product

_KEYS, _PRODUCTS, _CUSTOMERS = LicenseKey.__table__, Product.__table__, Customer.__table__
_MACHINES, _OBJECTS = ActivatedMachine.__table__, DataObject.__table__
# A known node-locked machine's "last seen" is written at most this often: activating it again within this time
# writes nothing (like an access token's "last used").
SEEN_EVERY = timedelta(minutes=1)

_KEY_OF_PRODUCT = (
    select(_PRODUCTS.c.id.label("found_product_id"), *_KEYS.c, _CUSTOMERS.c.name.label("customer_name"),
           _CUSTOMERS.c.email.label("customer_email"), _CUSTOMERS.c.company_name.label("customer_company_name"),
           _CUSTOMERS.c.created.label("customer_created"))
    .select_from(_PRODUCTS.outerjoin(_KEYS, and_(_KEYS.c.product_id == _PRODUCTS.c.id,
                                                 _KEYS.c.key == bindparam("key")))
                 .outerjoin(_CUSTOMERS, _CUSTOMERS.c.id == _KEYS.c.customer_id))
    .where(_PRODUCTS.c.id == bindparam("product_id"), _PRODUCTS.c.vendor_id == bindparam("vendor_id")))
_MACHINES_OF_KEY = (select(_MACHINES).where(_MACHINES.c.key_id == bindparam("key_id"))
                    .order_by(_MACHINES.c.time, _MACHINES.c.id))
_OBJECTS_OF_KEY = (select(_OBJECTS.c.id, _OBJECTS.c.name, _OBJECTS.c.string_value, _OBJECTS.c.int_value)
                   .where(_OBJECTS.c.vendor_id == bindparam("vendor_id"), _OBJECTS.c.referencer_type == KEY,
                          _OBJECTS.c.referencer_id == bindparam("key_id"))
                   .order_by(_OBJECTS.c.name, _OBJECTS.c.id))


class KeyCustomer(NamedTuple):
    id: int
    name: str
    email: str
    company_name: str
    created: datetime


class NoSuchProduct(Exception):
    """The vendor has no product with this id."""


def key_of_product(session: Session | Connection, *, vendor_id: int, product_id: int, text: str):
    """The row of the vendor's product's key with this text (`XXXXX-XXXXX-XXXXX-XXXXX`, any case), None for no
    such key; NoSuchProduct when the product is not the vendor's."""
    row = session.execute(_KEY_OF_PRODUCT, {"vendor_id": vendor_id, "product_id": product_id,
                                            "key": text.strip().upper()}).first()
    if row is None:
        raise NoSuchProduct()
    return row if row.id is not None else None


def customer_of(row) -> KeyCustomer | None:
    """The customer read with the key by `key_of_product`."""
    if row.customer_id is None or row.customer_name is None:
        return None
    return KeyCustomer(row.customer_id, row.customer_name, row.customer_email, row.customer_company_name,
                       row.customer_created)


def machines_of_key(session: Session | Connection, *, key_id: int) -> list:
    return list(session.execute(_MACHINES_OF_KEY, {"key_id": key_id}))


def data_objects_of_key(session: Session | Connection, *, vendor_id: int, key_id: int) -> list:
    return list(session.execute(_OBJECTS_OF_KEY, {"vendor_id": vendor_id, "key_id": key_id}))


def seen_lately(machines, *, mid: str, ip: str, friendly_name: str, now: datetime) -> bool:
    """Whether activating node-locked `mid` again changes nothing worth a write: the key has it, it was seen within
    SEEN_EVERY from the same address, and no new name is given. A floating activation always writes (its slot's
    expiry moves with each call)."""
    for machine in machines:
        if machine.mid == mid:
            return (machine.floating_expires is None and now - machine.time < SEEN_EVERY
                    and (not ip or ip == machine.ip) and (not friendly_name or friendly_name == machine.friendly_name))
    return False
