"""The plain data-object methods as Cryptolens' .NET client calls them: a change names its object by Id alone,
wherever it hangs, within the token's reach; ReferencerType by name or number; CheckForDuplicates holds when calls
come at once."""

import pytest
from sqlmodel import select

from portal.dataobjects import services as data
from portal.dataobjects.services import KEY, MACHINE, PRODUCT, USER
from portal.domain import DomainError
from portal.keys.services import delete_key
from portal.models import ActivatedMachine, DataObject
from tests.conftest import TEST_DATABASE
from tests.support.live import served
from tests.support.processes import send_at_once

NOT_FOUND = "No data object here has that Id or Name."


def _add(api, token, **params) -> int:
    status, answer = api.post("data/AddDataObject", token=token, **params)
    assert status == 200 and answer["result"] == 0, answer
    return answer["id"]


def _stored(db, object_id: int) -> tuple | None:
    found = db.exec(select(DataObject).where(DataObject.id == object_id)).first()
    return None if found is None else (found.string_value, found.int_value)


def test_a_products_keys_and_machines_objects_are_changed_and_removed_by_id_alone(api, make, vendor, product, db):
    key = make.key(product, machines=("laptop-1",))
    token = api.token(vendor, "dataobjects")
    machine_id = db.exec(select(ActivatedMachine.id)).one()
    ids = [_add(api, token, Name="n", ReferencerType=PRODUCT, ReferencerId=product.id),
           _add(api, token, Name="n", ReferencerType=KEY, ReferencerId=key.id),
           api.post("data/AddDataObjectToMachineCode", token=token, ProductId=product.id, Key=key.key,
                    MachineCode="laptop-1", Name="n")[1]["id"],
           _add(api, token, Name="n")]
    for object_id in ids:
        for method, params in (("SetStringValue", {"StringValue": "changed"}), ("SetIntValue", {"IntValue": 10}),
                               ("IncrementIntValue", {"IntValue": 5}), ("DecrementIntValue", {"IntValue": 2})):
            status, answer = api.post(f"data/{method}", token=token, Id=object_id, **params)
            assert status == 200 and answer["result"] == 0, (method, answer)
        assert _stored(db, object_id) == ("changed", 13)
    assert [(o.referencer_type, o.referencer_id) for o in db.exec(select(DataObject).order_by(DataObject.id))] == [
        (PRODUCT, product.id), (KEY, key.id), (MACHINE, machine_id), (USER, 0)]
    for object_id in ids:
        assert api.post("data/RemoveDataObject", token=token, Id=object_id) == (200, {"result": 0, "message": ""})
    assert db.exec(select(DataObject)).all() == []


def test_an_id_with_its_owner_still_must_be_that_owners(api, make, vendor, product, db):
    token = api.token(vendor, "dataobjects")
    object_id = _add(api, token, Name="n", ReferencerType=PRODUCT, ReferencerId=product.id)
    for owner in ({"ReferencerType": USER, "ReferencerId": 0}, {"ReferencerType": KEY, "ReferencerId": make.key(
            product).id}):
        status, answer = api.post("data/SetIntValue", token=token, Id=object_id, IntValue=3, **owner)
        assert status == 400 and answer["result"] == 1, answer
    assert api.post("data/SetIntValue", token=token, Id=object_id, IntValue=3, ReferencerType="Product",
                    ReferencerId=product.id)[1]["result"] == 0
    assert _stored(db, object_id) == ("", 3)


METHODS = [("SetStringValue", {"StringValue": "x"}), ("SetIntValue", {"IntValue": 1}),
           ("IncrementIntValue", {"IntValue": 1}), ("DecrementIntValue", {"IntValue": 1}), ("RemoveDataObject", {})]


def _refused_as_unknown(api, token, object_id: int) -> None:
    for method, params in METHODS:
        assert api.post(f"data/{method}", token=token, Id=object_id, **params) == (
            400, {"result": 1, "message": NOT_FOUND}), method


def test_another_vendors_object_by_id_alone_is_not_found_like_no_object(api, make, vendor, other_vendor, db):
    theirs = make.product(other_vendor)
    their_id = _add(api, api.token(other_vendor, "dataobjects"), Name="n", IntValue=7, ReferencerType=PRODUCT,
                    ReferencerId=theirs.id)
    token = api.token(vendor, "dataobjects")
    for object_id in (their_id, their_id + 1000):
        _refused_as_unknown(api, token, object_id)
    assert _stored(db, their_id) == ("", 7)


def test_a_token_for_one_product_changes_by_id_alone_only_that_products_and_its_keys_objects(
        api, make, vendor, product, db):
    other = make.product(vendor, name="Other")
    ours, theirs = make.key(product, machines=("m-ours",)), make.key(other, machines=("m-theirs",))
    everything = api.token(vendor, "dataobjects")
    out_of_reach = [_add(api, everything, Name="n", IntValue=7, **owner) for owner in (
        {}, {"ReferencerType": PRODUCT, "ReferencerId": other.id}, {"ReferencerType": KEY, "ReferencerId": theirs.id})]
    out_of_reach.append(api.post("data/AddDataObjectToMachineCode", token=everything, ProductId=other.id,
                                 Key=theirs.key, MachineCode="m-theirs", Name="n", IntValue=7)[1]["id"])
    within = [_add(api, everything, Name="n", IntValue=7, ReferencerType=PRODUCT, ReferencerId=product.id),
              _add(api, everything, Name="n", IntValue=7, ReferencerType=KEY, ReferencerId=ours.id),
              api.post("data/AddDataObjectToMachineCode", token=everything, ProductId=product.id, Key=ours.key,
                       MachineCode="m-ours", Name="n", IntValue=7)[1]["id"]]
    limited = api.token(vendor, "dataobjects", product=product)
    for object_id in out_of_reach:
        _refused_as_unknown(api, limited, object_id)
        assert _stored(db, object_id) == ("", 7)
    for object_id in within:
        assert api.post("data/IncrementIntValue", token=limited, Id=object_id, IntValue=1)[1]["result"] == 0
        assert _stored(db, object_id) == ("", 8)
        assert api.post("data/RemoveDataObject", token=limited, Id=object_id)[1]["result"] == 0
    assert sorted(o.id for o in db.exec(select(DataObject))) == sorted(out_of_reach)


@pytest.mark.parametrize("sent, referencer_type", [
    ("User", USER), ("user", USER), ("0", USER), ("Product", PRODUCT), ("PRODUCT", PRODUCT), (" product ", PRODUCT),
    ("1", PRODUCT), ("Key", KEY), ("key", KEY), ("2", KEY)])
def test_referencer_type_is_taken_by_name_in_any_case_or_by_number(api, make, vendor, product, db, sent,
                                                                   referencer_type):
    token = api.token(vendor, "dataobjects")
    referencer_id = {USER: 0, PRODUCT: product.id, KEY: make.key(product).id}[referencer_type]
    object_id = _add(api, token, Name="n", ReferencerType=sent, ReferencerId=referencer_id)
    stored = db.exec(select(DataObject)).one()
    assert (stored.id, stored.referencer_type, stored.referencer_id) == (object_id, referencer_type, referencer_id)
    status, answer = api.post("data/ListDataObjects", token=token, ReferencerType=sent, ReferencerId=referencer_id)
    assert status == 200 and [o["Id"] for o in answer["dataObjects"]] == [object_id], answer


@pytest.mark.parametrize("sent", ["Machine", "3", "-1", "Products", "1.0", "0x1", "User,Key", "Ｐroduct", "²", "١"])
@pytest.mark.parametrize("method", ["AddDataObject", "ListDataObjects", "SetIntValue"])
def test_an_unknown_referencer_type_is_refused_naming_the_accepted_ones(api, vendor, db, sent, method):
    status, answer = api.post(f"data/{method}", token=api.token(vendor, "dataobjects"), Name="n", Id=1, IntValue=1,
                              ReferencerType=sent, ReferencerId=0)
    assert status == 400 and answer == {
        "result": 1, "message": "The parameter ReferencerType must be User (0), Product (1) or Key (2)."}, answer
    assert db.exec(select(DataObject)).all() == []


def test_check_for_duplicates_refuses_a_second_object_of_the_name_but_not_of_another_owner(
        api, make, vendor, product, db):
    token = api.token(vendor, "dataobjects")
    key = make.key(product)
    for owner in ({}, {"ReferencerType": "Product", "ReferencerId": product.id}, {"ReferencerType": "Key",
                                                                                  "ReferencerId": key.id}):
        _add(api, token, Name="seats", CheckForDuplicates="True", **owner)
        status, answer = api.post("data/AddDataObject", token=token, Name="seats", CheckForDuplicates="True", **owner)
        assert status == 400 and answer["message"] == "There is already a data object named seats.", answer
        _add(api, token, Name="seats", **owner)  # duplicates are allowed without the flag
    assert len(db.exec(select(DataObject)).all()) == 6


@pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")
@pytest.mark.parametrize("owner", ["account", "product", "key", "machine"])
def test_ten_adds_at_once_with_check_for_duplicates_make_one_object(api_app, api, make, vendor, product, db, owner):
    key = make.key(product, machines=("laptop-1",))
    form = {"token": api.token(vendor, "dataobjects"), "Name": "seats", "IntValue": 1, "CheckForDuplicates": "True"}
    path = "/api/data/AddDataObject"
    if owner == "product":
        form |= {"ReferencerType": "Product", "ReferencerId": product.id}
    elif owner == "key":
        form |= {"ReferencerType": "Key", "ReferencerId": key.id}
    elif owner == "machine":
        path, form = path + "ToMachineCode", form | {"ProductId": product.id, "Key": key.key, "MachineCode": "laptop-1"}
    with served(api_app) as base:
        answers = send_at_once([(base, [{"path": path, "data": form}] * 10)])
    assert sorted((status, body["result"]) for status, body in answers) == [(200, 0)] + [(400, 1)] * 9, answers
    assert len(db.exec(select(DataObject)).all()) == 1


@pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")
def test_changes_at_once_keep_each_other_and_a_removal_at_once_is_no_error(api_app, api, vendor, db):
    token = api.token(vendor, "dataobjects")
    _status, made = api.post("data/AddDataObject", token=token, Name="seats", IntValue=0, StringValue="a")
    object_id = made["id"]
    posts = ([{"path": "/api/data/IncrementIntValue", "data": {"token": token, "Id": object_id, "IntValue": 1}}] * 8
             + [{"path": "/api/data/SetStringValue", "data": {"token": token, "Id": object_id,
                                                              "StringValue": f"v{n}"}} for n in range(8)])
    with served(api_app) as base:
        answers = send_at_once([(base, posts)])
    assert [status for status, _body in answers] == [200] * 16, answers
    db.expire_all()
    assert db.get(DataObject, object_id).int_value == 8  # no set wrote back a value read before an increment

    removal = [{"path": "/api/data/RemoveDataObject", "data": {"token": token, "Id": object_id}}]
    sets = [{"path": "/api/data/SetIntValue", "data": {"token": token, "Id": object_id, "IntValue": n}}
            for n in range(6)]
    with served(api_app) as base:
        answers = send_at_once([(base, removal + sets)])
    assert {status for status, _body in answers} <= {200, 400}, answers  # a set after the removal: no such object
    db.expire_all()
    assert db.get(DataObject, object_id) is None


@pytest.mark.parametrize("check_for_duplicates", [True, False])
def test_no_object_is_added_to_an_owner_removed_meanwhile(app, make, vendor, product, db, check_for_duplicates):
    key = make.key(product)
    key_id = key.id
    delete_key(db, key=key, actor="test")
    db.commit()
    with pytest.raises(DomainError, match="removed a moment ago"):  # the call had found the key before it went
        data.add_object(db, vendor_id=vendor.id, name="seats", referencer_type=KEY, referencer_id=key_id,
                        actor="test", check_for_duplicates=check_for_duplicates)
    db.rollback()
    assert db.exec(select(DataObject)).all() == []
