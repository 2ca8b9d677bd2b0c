"""Customers made or changed through the Web API take the vendor's customer form's rules: names on one line (they
may end up in a mail header) and e-mail addresses that are one. A refused call writes nothing."""

import pytest
from sqlmodel import func, select

from portal.models import Customer, LicenseKey

BAD = [("Name", "Eve\r\nX-Injected: 1", "Name must be one line"),
       ("CompanyName", "\x07bell", "CompanyName must be one line"),
       ("Email", "victim@example.test, eve@example.test", "Email is not a valid e-mail address"),
       ("Email", "not an e-mail", "Email is not a valid e-mail address")]


def _count(db, model) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model)).one()


@pytest.mark.parametrize(("field", "value", "said"), BAD)
def test_add_customer_and_create_key_refuse_what_the_customer_form_refuses(api, vendor, product, db, field, value,
                                                                          said):
    token = api.token(vendor)
    status, answer = api.post("customer/AddCustomer", token=token, **{"Name": "Eve", field: value})
    assert (status, answer["result"]) == (400, 1) and said in answer["message"]
    status, answer = api.post("key/CreateKey", token=token, ProductId=product.id, NewCustomer="True",
                              **{"Name": "Eve", "Email": "eve@example.test", field: value})
    assert (status, answer["result"]) == (400, 1) and said in answer["message"]
    assert (_count(db, Customer), _count(db, LicenseKey)) == (0, 0)


def test_edit_customer_refuses_a_bad_email_and_keeps_the_customer_as_it_was(api, make, vendor, db):
    customer = make.customer(vendor, name="Ann", email="ann@example.test")
    status, answer = api.post("customer/EditCustomer", token=api.token(vendor), CustomerId=customer.id,
                              Name="Ann Lee", Email="ann@example.test\nBcc: eve@example.test")
    assert (status, answer["result"]) == (400, 1) and "Email is not a valid e-mail address" in answer["message"]
    db.expire_all()
    assert (db.get(Customer, customer.id).name, db.get(Customer, customer.id).email) == ("Ann", "ann@example.test")


def test_good_values_are_taken_without_the_spaces_around_them(api, vendor, db):
    status, answer = api.post("customer/AddCustomer", token=api.token(vendor), Name=" Ann Lee ",
                              Email=" Ann@Example.test ", CompanyName="Lee & Co")
    assert (status, answer["result"]) == (200, 0)
    customer = db.get(Customer, answer["customerId"])
    assert (customer.name, customer.email, customer.company_name) == ("Ann Lee", "Ann@Example.test", "Lee & Co")
