"""The rest of the official client's methods against a served app: keys, customers, data objects, products."""

from licensing.methods import Customer as Customers
from licensing.methods import Data, Helpers, Key, Product
from sqlmodel import select

from portal.models import AuditEvent, Customer, DataObject, LicenseKey
from tests.support.mail import html_of, text_of


def test_floating_activation_holds_a_slot_for_its_interval(server, api, make, vendor, product, db):
    key = make.key(product, max_no_of_machines=1)
    token, public_key = api.token(vendor), api.public_key(vendor)
    first, message = Key.activate(token, public_key, product.id, key.key, "m-1", floating_time_interval=100)
    assert first is not None, message
    assert Helpers.IsOnRightMachine(first, is_floating_license=True, custom_machine_code="m-1")
    assert first.activated_machines[0].Mid == "floating:m-1" and first.activated_machines[0].FloatingExpires
    refused, message = Key.activate(token, public_key, product.id, key.key, "m-2", floating_time_interval=100)
    assert refused is None and "the limit has been reached" in message
    overdraft, message = Key.activate(token, public_key, product.id, key.key, "m-2", floating_time_interval=100,
                                      max_overdraft=1)
    assert Helpers.IsOnRightMachine(overdraft, is_floating_license=True, allow_overdraft=True,
                                    custom_machine_code="m-2"), message
    assert Key.deactivate(token, product.id, key.key, "m-2", floating=True) == (True, "")


def test_create_keys_and_change_them(server, api, make, vendor, product, db):
    token = api.token(vendor, "keys", "customers")
    made, message = Key.create_key(token, product.id, period=10, f2=True, notes="API", max_no_of_machines=3)
    assert made and made["result"] == 0, message
    key = db.exec(select(LicenseKey).where(LicenseKey.key == made["key"])).one()
    assert (key.period, key.f2, key.notes, key.max_no_of_machines) == (10, True, "API", 3)
    customer = make.customer(vendor)
    assert Key.extend_license(token, product.id, key.key, 5)[0]
    assert Key.block_key(token, product.id, key.key)[0]
    assert db.get(LicenseKey, key.id).block
    assert Key.unblock_key(token, product.id, key.key)[0]
    assert Key.change_customer(token, product.id, key.key, customer.id)[0]
    assert Key.machine_lock_limit(token, product.id, key.key, 7)[0]
    assert Key.change_notes(token, product.id, key.key, "Changed")[0]
    assert Key.add_feature(token, product.id, key.key, 5)[0]
    assert Key.remove_feature(token, product.id, key.key, 2)[0]
    db.expire_all()
    key = db.get(LicenseKey, key.id)
    assert (key.period, key.block, key.customer_id, key.max_no_of_machines, key.notes, key.f5, key.f2) == (
        15, False, customer.id, 7, "Changed", True, False)
    actors = {e.actor for e in db.exec(select(AuditEvent).where(AuditEvent.subject_type == "key"))}
    assert actors == {api.actor()} and api.actor().startswith("api_token:")


def test_trial_keys_one_per_machine(server, api, make, vendor, product, db):
    token = api.token(vendor, "activation")
    first, message = Key.create_trial_key(token, product.id, "machine-9")
    assert first, message
    assert Key.create_trial_key(token, product.id, "machine-9")[0] == first
    assert Key.create_trial_key(token, product.id, "machine-10")[0] != first
    trial = db.exec(select(LicenseKey).where(LicenseKey.key == first)).one()
    assert (trial.trial_activation, trial.max_no_of_machines, trial.period) == (True, 1, 15)
    # Deactivated, the machine still has its trial: the same key, never a new one (nor a new period).
    assert Key.deactivate(token, product.id, first, "machine-9") == (True, "")
    assert Key.create_trial_key(token, product.id, "machine-9")[0] == first
    assert len(db.exec(select(LicenseKey).where(LicenseKey.trial_activation.is_(True))).all()) == 2


def test_customers(server, api, make, vendor, product, db):
    token = api.token(vendor, "customers")
    added, message = Customers.add_customer(token, name="Ada", email="ada@example.test", company_name="Engines",
                                            enable_customer_association=True)
    assert added["customerId"] and added["secret"] and "/Associate?id=" in added["portalLink"], message
    customer = db.get(Customer, added["customerId"])
    assert (customer.name, customer.origin) == ("Ada", "api")
    make.key(product, customer=customer, machines=("m-1",))
    licenses, _ = Customers.get_customer_licenses(token, customer.id)
    assert [k["Customer"]["Id"] for k in licenses["licenseKeys"]] == [customer.id]
    assert licenses["licenseKeys"][0]["ActivatedMachines"][0]["Mid"] == "m-1"
    by_secret, _ = Customers.get_customer_licenses_by_secret(token, added["secret"])
    unsigned = [[{**key, "SignDate": 0} for key in answer["licenseKeys"]] for answer in (by_secret, licenses)]
    assert unsigned[0] == unsigned[1]  # the same keys; SignDate is each call's second
    assert api.post("customer/EditCustomer", token=token, CustomerId=customer.id, Name="Ada L")[1]["result"] == 0
    status, found = api.post("customer/GetCustomers", token=token, Search="Ada")
    assert [c["Name"] for c in found["customers"]] == ["Ada L"]
    assert api.post("customer/RemoveCustomer", token=token, CustomerId=customer.id)[1]["result"] == 0
    assert db.get(Customer, customer.id) is None


def test_data_objects_on_keys_and_machines(server, api, make, vendor, product, db):
    key = make.key(product, machines=("m-1",))
    token = api.token(vendor, "dataobjects")
    added, message = Data.add_data_object_to_key(token, product.id, key.key, name="usage", int_value=1)
    assert added and added["id"], message
    assert Data.increment_int_value_to_key(token, product.id, key.key, name="usage", int_value=4,
                                           enable_bound=True, bound=5)[0]
    refused = Data.increment_int_value_to_key(token, product.id, key.key, name="usage", int_value=1,
                                              enable_bound=True, bound=5)
    assert refused[0] is None and "bound" in refused[1]
    assert Data.decrement_int_value_to_key(token, product.id, key.key, name="usage", int_value=2)[0]
    listed, _ = Data.list_key_data_objects(token, product.id, key.key)
    assert [(o["Name"], o["IntValue"]) for o in listed["dataObjects"]] == [("usage", 3)]
    assert Data.add_data_object_to_machine(token, product.id, key.key, "m-1", name="seen", string_value="x")[0]
    machine_listed, _ = Data.list_machine_data_objects(token, product.id, key.key, "m-1")
    assert [o["StringValue"] for o in machine_listed["dataObjects"]] == ["x"]
    assert Data.remove_data_object_to_machine(token, product.id, key.key, "m-1", name="seen")[0]
    assert Data.remove_data_object_to_key(token, product.id, key.key, object_id=added["id"])[0]
    assert db.exec(select(DataObject)).all() == []


def test_products_and_their_keys_with_the_search_language(server, api, make, vendor, product):
    make.key(product, notes="alpha", f1=True)
    make.key(product, notes="beta")
    token = api.token(vendor, "products")
    products, _ = Product.get_products(token)
    assert [p["name"] for p in products] == [product.name]
    keys, message, counts = Product.get_keys(token, product.id, search_query="f1")
    assert [k["Notes"] for k in keys] == ["alpha"] and counts == {"returned": 1, "total": 1, "pageCount": 1}
    keys, _message, _counts = Product.get_keys(token, product.id, order_by="ID descending")
    assert [k["Notes"] for k in keys] == ["beta", "alpha"]
    assert Product.get_keys(token, product.id, search_query="f1 ==")[1].startswith("The parameter SearchQuery")


def test_keys_made_for_or_moved_to_a_customer_mail_them_as_the_vendors_pages_do(server, api, make, vendor, product,
                                                                                mailbox, db):
    from portal.models import Vendor

    token = api.token(vendor, "keys")
    ada = make.customer(vendor, name="Ada", email="ada@example.test")
    grace = make.customer(vendor, name="Grace", email="grace@example.test")
    made, message = Key.create_key(token, product.id, customer_id=ada.id)
    assert made and made["result"] == 0, message
    status, answer = api.post("key/CreateKey", token=token, ProductId=product.id, CustomerId=ada.id, NoOfKeys=3)
    assert status == 200 and len(answer["keys"]) == 3
    api.post("key/CreateKey", token=token, ProductId=product.id, NoOfKeys=2)  # for nobody: no mail
    api.post("key/CreateKey", token=token, ProductId=product.id, CustomerId=ada.id, Block="True")  # not in use yet
    subjects = [mail["Subject"] for mail in mailbox.to("ada@example.test")]
    assert subjects == [f"Your new {product.name} license from {vendor.name}",
                        f"3 new {product.name} licenses from {vendor.name}"]
    mailed = "\n".join(text_of(mail) + html_of(mail) for mail in mailbox.messages)
    assert f"/Portal/@{vendor.slug}/" in mailed
    assert made["key"] not in mailed and not any(key in mailed for key in answer["keys"])  # a link, never the key

    assert Key.change_customer(token, product.id, made["key"], grace.id)[0]
    assert [mail["Subject"] for mail in mailbox.to("grace@example.test")] == [
        f"Your new {product.name} license from {vendor.name}"]
    db.get(Vendor, vendor.id).mail_new_licenses = False
    db.commit()
    assert Key.change_customer(token, product.id, made["key"], ada.id)[0]
    assert Key.create_key(token, product.id, customer_id=grace.id)[0]
    assert len(mailbox.messages) == 3


def test_a_feature_tree_set_through_the_api_is_read_by_the_clients_has_feature(server, api, make, vendor, product,
                                                                                 db):
    key = make.key(product)
    token, public_key = api.token(vendor, "dataobjects", "activation"), api.public_key(vendor)
    refused = Data.add_data_object_to_key(token, product.id, key.key, name="cryptolens_features",
                                          string_value='["f1", ["f2"]]')
    assert refused[0] is None and "is neither" in refused[1]
    added, message = Data.add_data_object_to_key(token, product.id, key.key, name="cryptolens_features",
                                                 string_value='["f1", ["f2", ["voice", "image"]]]')
    assert added, message
    license_key, message = Key.activate(token, public_key, product.id, key.key, "m-1")
    assert license_key is not None, message
    assert Helpers.HasFeature(license_key, "f1") and Helpers.HasFeature(license_key, "f2.voice")
    assert not Helpers.HasFeature(license_key, "f2.video") and not Helpers.HasFeature(license_key, "f3")
    status, answer = api.post("data/SetStringValueToKey", token=token, ProductId=product.id, Key=key.key,
                              Name="cryptolens_features", StringValue="f1")
    assert status == 400 and answer["result"] == 1 and "This is not JSON" in answer["message"]
    assert db.exec(select(DataObject.string_value)).one() == '["f1", ["f2", ["voice", "image"]]]'


def test_a_key_made_with_the_clients_defaults_activates_and_an_existing_customer_is_used_by_email(
        server, api, make, vendor, product, db):
    token, public_key = api.token(vendor, "keys", "customers", "activation"), api.public_key(vendor)
    made, message = Key.create_key(token, product.id)  # the client sends Period=0
    assert made, message
    license_key, message = Key.activate(token, public_key, product.id, made["key"], "m-1")
    assert license_key is not None and Helpers.HasNotExpired(license_key), message
    ada = make.customer(vendor, name="Ada", email="Ada@Example.test")
    first, _ = Key.create_key(token, product.id, period=30, add_or_use_existing_customer=True,
                              email="ada@example.test", name="Someone else")
    second, _ = Key.create_key(token, product.id, period=30, new_customer=True, email="ada@example.test")
    fresh, _ = Key.create_key(token, product.id, period=30, add_or_use_existing_customer=True,
                              email="grace@example.test", name="Grace")
    assert first["customerId"] == ada.id and second["customerId"] not in (ada.id, 0)
    assert db.get(Customer, ada.id).name == "Ada"  # used, not overwritten
    assert db.get(Customer, fresh["customerId"]).email == "grace@example.test"
