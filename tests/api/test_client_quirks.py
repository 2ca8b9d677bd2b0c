"""What the Cryptolens clients send that is easy to get wrong: .NET's unset numbers (0), its SignMethod, malformed
numbers, OPTIONS, and machine codes in the form the server keeps floating slots in. Every answer is JSON; a refused
call writes nothing."""

import json

import pytest
from sqlmodel import select

from portal.models import ActivatedMachine, LicenseKey


@pytest.mark.parametrize("days", ["--5", "5-", "٣", "1_000", "+-1", "12345678901234567890"])
def test_a_malformed_whole_number_is_refused_naming_the_parameter(api, make, vendor, product, db, days):
    key = make.key(product)
    status, answer = api.post("key/ExtendLicense", token=api.token(vendor), ProductId=product.id, Key=key.key,
                              NoOfDays=days)
    assert (status, answer["result"]) == (400, 1) and "NoOfDays" in answer["message"]
    db.expire_all()
    assert db.get(LicenseKey, key.id).expires == key.expires


def test_dotnets_unset_no_of_keys_and_customer_id_mean_one_key_and_every_customer(api, make, vendor, product, db):
    """.NET's CreateKeyModel and GetCustomersModel send every property: NoOfKeys=0 and CustomerId=0 when unset."""
    make.customer(vendor, name="Ann")
    token = api.token(vendor)
    status, answer = api.post("key/CreateKey", token=token, ProductId=product.id, Period=30, NoOfKeys=0)
    assert (status, answer["result"]) == (200, 0) and len(db.exec(select(LicenseKey)).all()) == 1
    status, answer = api.post("customer/GetCustomers", token=token, CustomerId=0, Limit=0)
    assert (status, [c["Name"] for c in answer["customers"]]) == (200, ["Ann"])


def test_options_answers_json_like_every_other_wrong_method(api_app):
    response = api_app.test_client().options("/api/key/Activate")
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert response.headers["Allow"] == "GET, POST"
    assert json.loads(response.get_data(as_text=True)) == {"result": 1,
                                                          "message": "key/activate is called with POST (or GET)."}


def test_dotnets_unset_limit_and_page_mean_all_and_the_first_page(api, make, vendor, product):
    make.customer(vendor, name="Ann")
    make.key(product)
    token = api.token(vendor)
    status, answer = api.post("customer/GetCustomers", token=token, Limit=0)
    assert (status, [c["Name"] for c in answer["customers"]]) == (200, ["Ann"])
    def keys_of_page(page: int) -> tuple[int, list]:
        status, answer = api.post("product/GetKeys", token=token, ProductId=product.id, Page=page)
        # SignDate is the moment of the answer: two answers a second apart differ in it alone.
        return status, [{k: v for k, v in key.items() if k != "SignDate"} for key in answer["licenseKeys"]]

    first = keys_of_page(1)
    assert keys_of_page(0) == first and len(first[1]) == 1


def test_sign_method_normal_is_refused_and_activates_nothing(api, make, vendor, product, db):
    key = make.key(product)
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key, "MachineCode": "m1"}
    for method in ("0", "Normal"):
        status, answer = api.post("key/Activate", **form, SignMethod=method)
        assert (status, answer["result"]) == (400, 1) and "SignMethod must be 1 (StringSign)" in answer["message"]
    assert db.exec(select(ActivatedMachine).where(ActivatedMachine.key_id == key.id)).all() == []
    for method in ("1", "StringSign"):
        status, answer = api.post("key/Activate", **form, SignMethod=method)
        assert (status, answer["result"]) == (200, 0) and answer["signature"]
    assert api.post("key/Activate", **form, SignMethod="0", Sign="False")[1]["result"] == 0  # nothing to sign


def test_a_machine_code_in_the_form_of_a_floating_slot_is_refused(api, make, vendor, product, db):
    key = make.key(product, max_no_of_machines=1, machines=("A",))
    form = {"token": api.token(vendor), "ProductId": product.id, "Key": key.key}
    status, _answer = api.post("key/Activate", **form, MachineCode="Y", FloatingTimeInterval=60, MaxOverdraft=1)
    assert status == 200
    status, answer = api.post("key/Activate", **form, MachineCode="floating:overdraft:Y")
    assert (status, answer["result"]) == (400, 1) and "not starting with floating:" in answer["message"]
    machines = db.exec(select(ActivatedMachine).where(ActivatedMachine.key_id == key.id)).all()
    assert sorted((m.mid, m.floating_expires is None) for m in machines) == [("A", True),
                                                                             ("floating:overdraft:Y", False)]


def test_get_keys_orders_by_a_feature_or_the_block_as_dotnets_documentation_shows(api, make, vendor, product):
    plain, with_f1, blocked = make.key(product), make.key(product, f1=True), make.key(product)
    token = api.token(vendor)
    assert api.post("key/BlockKey", token=token, ProductId=product.id, Key=blocked.key)[0] == 200

    def order(by: str) -> list[int]:
        status, answer = api.post("product/GetKeys", token=token, ProductId=product.id, OrderBy=by)
        assert status == 200, answer
        return [key["GlobalId"] for key in answer["licenseKeys"]]

    assert order("F1 descending") == [with_f1.id, plain.id, blocked.id]
    assert order("Block descending")[0] == blocked.id
    status, answer = api.post("product/GetKeys", token=token, ProductId=product.id, OrderBy="Colour descending")
    assert status == 400 and "OrderBy" in answer["message"] and "f8" in answer["message"]


def test_a_method_routing_refuses_is_answered_in_json_too(api_app):
    response = api_app.test_client().open("/api/key/GetKey", method="TRACE")
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert response.headers["Allow"] == "GET, POST"
    assert json.loads(response.get_data(as_text=True)) == {"result": 1,
                                                          "message": "key/getkey is called with POST (or GET)."}


def test_metadata_is_signed_so_sign_method_normal_is_refused_with_it_even_without_sign(api, make, vendor, product):
    key = make.key(product)
    status, answer = api.post("key/GetKey", token=api.token(vendor), ProductId=product.id, Key=key.key, Sign="False",
                              metadata="True", SignMethod="0")
    assert status == 400 and "send Sign=False and no metadata" in answer["message"]
