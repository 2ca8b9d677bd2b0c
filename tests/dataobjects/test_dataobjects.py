from sqlmodel import select

from portal.models import DataObject
from tests.support.pages import post_form


def add(client, **data):
    return post_form(client, "/vendor/data-objects/", {"string_value": "", "int_value": "0"} | data)


def test_add_edit_delete(vendor_client, db):
    response = add(vendor_client, name="seats", int_value="5")
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/data-objects/"
    item = db.exec(select(DataObject)).one()
    assert (item.name, item.int_value, item.referencer_type) == ("seats", 5, 0)
    response = post_form(vendor_client, f"/vendor/data-objects/{item.id}/edit",
                         {"name": "seats", "string_value": "x", "int_value": "-7"})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/data-objects/"
    assert db.get(DataObject, item.id).int_value == -7
    item_id = item.id
    post_form(vendor_client, f"/vendor/data-objects/{item_id}/delete", {}, page="/vendor/data-objects/")
    assert db.get(DataObject, item_id) is None


def test_reserved_names_are_unique_per_vendor(vendor_client, db):
    add(vendor_client, name="cryptolens_customtosurl", string_value="https://acme.example/terms")
    response = add(vendor_client, name="cryptolens_customtosurl", string_value="https://acme.example/other")
    assert response.status_code == 422 and 'id="name-error"' in response.get_data(as_text=True)
    assert len(db.exec(select(DataObject)).all()) == 1


def test_ordinary_names_may_repeat_and_the_second_says_so(vendor_client, db):
    first = add(vendor_client, name="note")
    assert "data objects named" not in vendor_client.get(first.headers["Location"]).get_data(as_text=True)
    second = add(vendor_client, name="note")
    assert len(db.exec(select(DataObject)).all()) == 2
    page = vendor_client.get(second.headers["Location"]).get_data(as_text=True)
    assert "There are 2 data objects named note here now" in page
    other = add(vendor_client, name="other")
    vendor_client.get(other.headers["Location"])
    renamed = db.exec(select(DataObject).where(DataObject.name == "other")).one()
    response = post_form(vendor_client, f"/vendor/data-objects/{renamed.id}/edit",
                         {"name": "note", "string_value": "", "int_value": "0"})
    assert "There are 3 data objects named note here now" in vendor_client.get(
        response.headers["Location"]).get_data(as_text=True)  # renamed to a name in use: the same word


def test_other_vendors_objects_are_not_found(vendor_client, make, other_vendor, db):
    make.terms(other_vendor)
    foreign = db.exec(select(DataObject)).one()
    assert vendor_client.get(f"/vendor/data-objects/{foreign.id}/edit").status_code == 404
    response = post_form(vendor_client, f"/vendor/data-objects/{foreign.id}/delete", {},
                         page="/vendor/data-objects/")
    assert response.status_code == 404
    assert db.get(DataObject, foreign.id) is not None
    assert "No data objects yet" in vendor_client.get("/vendor/data-objects/").get_data(as_text=True)


def test_a_products_and_a_keys_data_objects_are_named_by_them_with_a_way_back(vendor_client, make, vendor):
    product = make.product(vendor, name="Photo Studio")
    key = make.key(product)
    page = vendor_client.get(f"/vendor/data-objects/product/{product.id}").get_data(as_text=True)
    assert "Data objects of product Photo Studio" in page and f'href="/vendor/products/{product.id}"' in page
    page = vendor_client.get(f"/vendor/data-objects/key/{key.id}").get_data(as_text=True)
    assert f"Data objects of key {key.key}" in page and f'href="/vendor/keys/{key.id}"' in page
    assert "returned with it to your software" in page


def test_a_keys_feature_tree_is_checked_and_shown_on_its_page(vendor_client, make, vendor, db):
    key = make.key(make.product(vendor, name="Photo Studio"))
    page = f"/vendor/data-objects/key/{key.id}"
    for bad, says in (('["f1", ', "This is not JSON"), ('{"f1": true}', "Give a JSON list like"),
                      ('["f1", ["f2", "voice"]]', "is neither"), ('["f1", [1, []]]', "is neither"),
                      ('["f2.voice"]', "without dots"), ('["", "f1"]', "Name each feature")):
        response = post_form(vendor_client, page, {"name": "cryptolens_features", "string_value": bad,
                                                   "int_value": "0"})
        assert response.status_code == 422, bad
        assert says in response.get_data(as_text=True) and 'id="string_value-error"' in response.get_data(as_text=True)
    assert db.exec(select(DataObject)).all() == []
    response = post_form(vendor_client, page, {"name": "cryptolens_features", "int_value": "0",
                                               "string_value": '["f1", ["f2", [["voice", ["all"]], "image"]]]'})
    assert response.status_code == 303
    shown = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert "Feature tree" in shown
    for path in ("f1", "f2", "f2.voice", "f2.voice.all", "f2.image"):
        assert f'<small class="tag">{path}</small>' in shown
    # The same name on a product, or any text on an ordinary name, is not a feature tree.
    add(vendor_client, name="cryptolens_features_note", string_value="[")
    item = db.exec(select(DataObject).where(DataObject.name == "cryptolens_features")).one()
    response = post_form(vendor_client, f"/vendor/data-objects/{item.id}/edit",
                         {"name": "cryptolens_features", "string_value": "[[]]", "int_value": "0"})
    assert response.status_code == 422
    db.refresh(item)
    assert item.string_value.startswith('["f1"')


def test_a_feature_tree_stored_unreadable_says_so_on_the_keys_page(vendor_client, make, vendor, db):
    key = make.key(make.product(vendor, name="Photo Studio"))
    db.add(DataObject(vendor_id=vendor.id, referencer_type=2, referencer_id=key.id, name="cryptolens_features",
                      string_value="f1, f2"))
    db.commit()
    shown = vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert "unreadable by the clients: This is not JSON" in shown


def test_each_owners_pages_say_what_its_objects_do_and_the_terms_object_warns_before_a_change(
        vendor_client, make, vendor, db):
    from portal.dataobjects import services as objects

    product = make.product(vendor, name="Photo Editor")
    key = make.key(product)
    product_page = vendor_client.get(f"/vendor/data-objects/product/{product.id}").get_data(as_text=True)
    assert "They are not returned" in product_page and "data/ListDataObjects" in product_page
    key_page = vendor_client.get(f"/vendor/data-objects/key/{key.id}").get_data(as_text=True)
    assert "cryptolens_features holds the key&#39;s feature tree" in key_page
    assert "cryptolens_customtosurl holds" not in key_page
    terms = objects.add_object(db, vendor_id=vendor.id, name=objects.TERMS_URL, string_value="https://acme.example/t",
                               actor="test")
    db.commit()
    edit = vendor_client.get(f"/vendor/data-objects/{terms.id}/edit").get_data(as_text=True)
    assert "Of your account." in edit and "This is your terms of use address." in edit and "data-confirm=" in edit
    on_key = objects.add_object(db, vendor_id=vendor.id, name="credits", int_value=3, actor="test",
                                referencer_type=objects.KEY, referencer_id=key.id)
    db.commit()
    assert f"Of key {key.key}." in vendor_client.get(f"/vendor/data-objects/{on_key.id}/edit").get_data(as_text=True)
