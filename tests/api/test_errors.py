"""Every answer is JSON with result and message: paths as the clients send them, tokens, scopes, other vendors'
records, missing and malformed parameters."""

import json

import pytest
from sqlmodel import select

from portal.api.tokens import revoke_token
from portal.api_models import ApiToken
from portal.models import LicenseKey


def _json(response):
    return response.status_code, json.loads(response.get_data(as_text=True))


@pytest.mark.parametrize("path", ["/api//key/GetKey", "/api/key/getkey", "/api//KEY/getkey/", "/api/key//GetKey//"])
def test_paths_in_any_case_with_doubled_and_trailing_slashes_reach_the_method_without_a_redirect(
        api_app, api, make, vendor, product, path):
    key = make.key(product)
    status, answer = _json(api_app.test_client().post(path, data={"TOKEN": api.token(vendor), "productid": product.id,
                                                                  "KEY": key.key, "Sign": "True", "metadata": "False",
                                                                  "FriendlyName": "None"}))
    assert (status, answer["result"]) == (200, 0) and answer["licenseKey"] and answer["signature"]


def test_unknown_paths_wrong_methods_and_server_errors_answer_json(api_app, api, vendor, monkeypatch):
    client = api_app.test_client()
    assert _json(client.post("/api/key/NoSuchMethod")) == (404, {"result": 1, "message":
                                                                 "There is no Web API method key/nosuchmethod."})
    assert _json(client.put("/api/key/Activate"))[0] == 405
    assert _json(client.delete("/api/"))[1]["result"] == 1
    assert "the Web API's base address" in _json(client.get("/api/"))[1]["message"]  # opened in a browser
    api_app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr("portal.api.product_methods.list_products", lambda *a, **k: 1 / 0)
    status, answer = _json(client.post("/api/product/GetProducts", data={"token": api.token(vendor)}))
    assert (status, answer["result"]) == (500, 1)


def test_wrong_revoked_and_out_of_scope_tokens_are_refused(api_app, api, make, vendor, product, db):
    key = make.key(product)
    keys_only = api.token(vendor, "keys")
    assert api.post("key/BlockKey", token="nonsense", ProductId=product.id, Key=key.key)[0] == 401
    status, answer = api.post("key/GetKey", token=keys_only, ProductId=product.id, Key=key.key)
    assert (status, answer["message"]) == (403, "Access denied.")
    revoke_token(db, vendor_id=vendor.id, token_id=db.exec(select(ApiToken.id)).one(), actor="test")
    db.commit()
    assert api.post("key/BlockKey", token=keys_only, ProductId=product.id, Key=key.key)[0] == 401
    assert not db.get(LicenseKey, key.id).block



def test_a_missing_token_or_a_json_body_is_said_and_wrong_tokens_are_limited_per_address(api_app, api, vendor):
    client = api_app.test_client()
    status, answer = _json(client.post("/api/product/GetProducts"))
    assert status == 401 and "token is missing" in answer["message"]
    status, answer = _json(client.post("/api/product/GetProducts", json={"token": api.token(vendor)}))
    assert status == 400 and "not JSON" in answer["message"]
    statuses = [api.post("product/GetProducts", token=f"guess-{n}")[0] for n in range(62)]
    assert statuses[:60] == [401] * 60 and statuses[60:] == [429, 429]
    assert api.post("product/GetProducts", token=api.token(vendor))[0] == 200  # a right token is not held back


def test_another_vendors_product_key_and_customer_are_not_found(api_app, api, make, vendor, other_vendor, product,
                                                               db):
    theirs = make.product(other_vendor, name="Theirs")
    their_key = make.key(theirs)
    their_customer = make.customer(other_vendor)
    mine = make.key(product)
    token = api.token(vendor)
    for path, params in [("key/GetKey", {"ProductId": theirs.id, "Key": their_key.key}),
                         ("key/BlockKey", {"ProductId": theirs.id, "Key": their_key.key}),
                         ("key/GetKey", {"ProductId": product.id, "Key": their_key.key}),
                         ("key/ChangeCustomer", {"ProductId": product.id, "Key": mine.key,
                                                 "CustomerId": their_customer.id}),
                         ("customer/GetCustomerLicenses", {"CustomerId": their_customer.id}),
                         ("customer/RemoveCustomer", {"CustomerId": their_customer.id}),
                         ("product/GetKeys", {"ProductId": theirs.id})]:
        status, answer = api.post(path, token=token, **params)
        assert (status, answer["result"]) == (400, 1), (path, answer)
        assert their_key.key not in json.dumps(answer)
    db.expire_all()
    assert not db.get(LicenseKey, their_key.id).block and db.get(LicenseKey, mine.id).customer_id is None


def test_a_token_for_one_product_reaches_only_that_product(api, make, vendor, product):
    other = make.product(vendor, name="Other")
    key = make.key(other)
    token = api.token(vendor, product=product)
    assert api.post("key/GetKey", token=token, ProductId=other.id, Key=key.key)[1]["result"] == 1
    assert [p["id"] for p in api.post("product/GetProducts", token=token)[1]["products"]] == [product.id]


def test_a_token_for_one_product_reaches_neither_other_products_keys_nor_the_vendors_own_data_or_customers(
        api, make, vendor, product, db):
    other = make.product(vendor, name="Other")
    theirs, ours = make.key(other), make.key(product)
    shared, own = make.customer(vendor, email="shared@example.test"), make.customer(vendor, email="own@example.test")
    loner = make.customer(vendor, email="loner@example.test")
    theirs.customer_id, ours.customer_id = shared.id, own.id
    also_ours = make.key(product)
    also_ours.customer_id = shared.id
    db.add_all([theirs, ours, also_ours])
    db.commit()
    token = api.token(vendor, product=product)
    # Data objects: a key of another product, and the vendor's account, are out of its reach.
    for referencer_type, referencer_id in ((2, theirs.id), (0, 0)):
        status, answer = api.post("data/AddDataObject", token=token, Name="credits", IntValue=5,
                                  ReferencerType=referencer_type, ReferencerId=referencer_id)
        assert answer["result"] == 1 and status in (400, 403), (referencer_type, answer)
        status, answer = api.post("data/ListDataObjects", token=token, ReferencerType=referencer_type,
                                  ReferencerId=referencer_id)
        assert answer["result"] == 1, answer
    assert api.post("data/AddDataObject", token=token, Name="credits", IntValue=5, ReferencerType=2,
                    ReferencerId=ours.id)[1]["result"] == 0
    # Customers: listed and read only with a key of its product; changed or removed only if all their keys are.
    assert api.post("customer/GetCustomers", token=token)[0] == 403
    assert api.post("customer/GetCustomers", token=token, CustomerId=own.id)[1]["result"] == 0
    assert api.post("customer/GetCustomerLicenses", token=token, CustomerId=loner.id)[0] == 403
    status, answer = api.post("customer/EditCustomer", token=token, CustomerId=shared.id, Name="Changed")
    assert status == 403 and "other products" in answer["message"]
    assert api.post("customer/RemoveCustomer", token=token, CustomerId=shared.id)[0] == 403
    assert api.post("customer/EditCustomer", token=token, CustomerId=own.id, Name="Changed")[1]["result"] == 0
    # A key of its product goes to a customer with a key of its product, or a new one: not to another product's
    # customer, nor to one with no key (who would then be in its reach).
    only_theirs = make.customer(vendor, email="theirs@example.test")
    other_key = make.key(other)
    other_key.customer_id = only_theirs.id
    db.add(other_key)
    db.commit()
    for customer in (only_theirs, loner):
        assert api.post("key/ChangeCustomer", token=token, ProductId=product.id, Key=ours.key,
                        CustomerId=customer.id)[0] == 403
    assert api.post("key/ChangeCustomer", token=token, ProductId=product.id, Key=ours.key,
                    CustomerId=shared.id)[1]["result"] == 0
    status, answer = api.post("key/CreateKey", token=token, ProductId=product.id, Period=5,
                              AddOrUseExistingCustomer=True, Email="loner@example.test")
    assert status == 403
    status, answer = api.post("key/CreateKey", token=token, ProductId=product.id, Period=5, NewCustomer=True,
                              Email="fresh@example.test")
    assert answer["result"] == 0 and answer["customerId"] not in (loner.id, 0)
    db.expire_all()
    assert db.get(type(shared), shared.id).name != "Changed" and db.get(type(own), own.id).name == "Changed"


@pytest.mark.parametrize(("params", "named"), [
    ({}, "ProductId"), ({"ProductId": "x"}, "ProductId"),
    ({"ProductId": "2147483647"}, "Could not find the product."),  # a valid id, no product: in Cryptolens' words
    ({"ProductId": "2147483648"}, "ProductId"),
    ({"ProductId": "{product}"}, "Key"), ({"ProductId": "{product}", "Key": "{key}"}, "MachineCode"),
    ({"ProductId": "{product}", "Key": "{key}", "MachineCode": "m", "FieldsToReturn": "-1"}, "FieldsToReturn"),
    ({"ProductId": "{product}", "Key": "{key}", "MachineCode": "m", "metadata": "maybe"}, "metadata"),
])
def test_a_missing_or_malformed_parameter_is_named(api, make, vendor, product, params, named, db):
    key = make.key(product)
    values = {name: value.format(product=product.id, key=key.key) for name, value in params.items()}
    status, answer = api.post("key/Activate", token=api.token(vendor), **values)
    assert status == 400 and named in answer["message"], answer


def test_calls_are_rate_limited_per_token_in_json(app, api, vendor):
    app.config["API_RATE_LIMIT"] = "2 per minute"
    token = api.token(vendor, "products")
    answers = [api.post("product/GetProducts", token=token)[0] for _ in range(3)]
    assert answers == [200, 200, 429]
    assert api.post("product/GetProducts", token=api.token(vendor, "products", name="other"))[0] == 200
    refused = app.test_client().post("/api/product/GetKeys", data={"token": token})  # one count for every method
    assert refused.status_code == 429
    assert refused.get_json() == {"result": 1, "message": "Too many calls with this access token: wait a moment "
                                                          "and call again."}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60  # the rest of the minute's window


def test_every_limit_of_the_setting_counts_and_unknown_paths_count_too(app, api, vendor):
    """`API_RATE_LIMIT` may name several windows; a call to no method is counted like the others, under the key
    Flask-Limiter kept the count under before (so a deploy keeps the counts of the minute)."""
    from limits import parse

    from portal.extensions import limiter
    from portal.security import token_digest

    app.config["API_RATE_LIMIT"] = "5 per minute; 2 per hour"
    token = api.token(vendor, "products")
    client = app.test_client()
    assert client.post("/api/no/such/method", data={"token": token}).status_code == 404
    assert api.post("product/GetProducts", token=token)[0] == 200
    refused = client.post("/api/product/GetProducts", data={"token": token})
    assert refused.status_code == 429 and 60 < int(refused.headers["Retry-After"]) <= 3600  # the hour's window
    hourly = parse("2 per hour")
    assert limiter.storage.get(hourly.key_for(f"api:{token_digest(token)[:32]}", "api")) == 3


def test_a_rate_limit_setting_that_is_not_one_stops_the_start(app):
    from portal import create_app

    config = {key: app.config[key] for key in ("TESTING", "DATABASE_URL", "SECRET_KEY", "MAIL_BACKEND")}
    for bad in ("600 a minute", "lots"):
        with pytest.raises(RuntimeError, match="API_RATE_LIMIT"):
            create_app(config | {"API_RATE_LIMIT": bad})


def test_adding_past_a_32_bit_value_is_refused_not_an_error(api, make, vendor, product, db):
    key = make.key(product)
    token = api.token(vendor, "dataobjects")
    assert api.post("data/AddDataObjectToKey", token=token, ProductId=product.id, Key=key.key, Name="credits",
                    IntValue=5)[1]["result"] == 0
    for method, refused in (("IncrementIntValueToKey", True), ("DecrementIntValueToKey", False),
                            ("DecrementIntValueToKey", True)):
        status, answer = api.post(f"data/{method}", token=token, ProductId=product.id, Key=key.key, Name="credits",
                                  IntValue=2147483647)
        assert (status == 400 and "past its bound" in answer["message"]) if refused else status == 200, answer
    status, answer = api.post("data/ListDataObjectsToKey", token=token, ProductId=product.id, Key=key.key)
    assert [o["IntValue"] for o in answer["dataObjects"]] == [5 - 2147483647]
