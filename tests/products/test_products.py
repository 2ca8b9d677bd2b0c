import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from sqlalchemy import func
from sqlmodel import select

from portal.billing_models import StripeConnection, StripePrice, Subscription
from portal.models import Customer, DataObject, LicenseKey, Product
from tests.conftest import TEST_DATABASE
from tests.support.pages import post_form, walk_pages
from tests.support.waiting import waiting_on_a_lock


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, name="Demo App", f1_name="Pro", f2_name="Export")


def test_create_product_with_named_features(vendor_client, db):
    response = post_form(vendor_client, "/vendor/products/new", {"name": "Photo <Editor>", "f1_name": "Pro",
                                                                 "f3_name": "RAW import"})
    product = db.exec(select(Product)).one()
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/products/{product.id}"
    assert (product.name, product.f1_name, product.feature_name(2), product.feature_name(3)) == (
        "Photo <Editor>", "Pro", "F2", "RAW import")
    page = vendor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Photo &lt;Editor&gt;" in page and "F1 = Pro" in page and "F3 = RAW import" in page


@pytest.mark.parametrize(("data", "field"), [
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "ok", "f1_name": "y" * 51}, "f1_name"),
])
def test_bad_product_input(vendor_client, db, data, field):
    response = post_form(vendor_client, "/vendor/products/new", data)
    assert response.status_code == 422 and f'id="{field}-error"' in response.get_data(as_text=True)
    assert db.exec(select(Product)).all() == []


def test_edit_product(vendor_client, product, db):
    response = post_form(vendor_client, f"/vendor/products/{product.id}/edit", {"name": "Renamed", "f1_name": "Plus"})
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/products/{product.id}"
    assert db.get(Product, product.id).f1_name == "Plus"


def test_delete_with_keys_asks_and_removes_keys(vendor_client, make, product, db):
    key = make.key(product, machines=("m",))
    product_id, key_id = product.id, key.id
    page = vendor_client.get(f"/vendor/products/{product_id}/delete").get_data(as_text=True)
    assert "has 1 license key" in page
    response = post_form(vendor_client, f"/vendor/products/{product_id}/delete", {})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/products/"
    assert db.get(Product, product_id) is None and db.get(LicenseKey, key_id) is None


def test_a_product_customers_still_pay_for_is_not_deleted(vendor_client, make, product, db):
    key = make.key(product)
    db.add_all([Subscription(vendor_id=product.vendor_id, stripe_subscription_id="sub_live", product_id=product.id,
                             key_id=key.id, status="active"),
                Subscription(vendor_id=product.vendor_id, stripe_subscription_id="sub_over", product_id=product.id,
                             status="canceled")])
    db.commit()
    page = vendor_client.get(f"/vendor/products/{product.id}/delete").get_data(as_text=True)
    assert "Customers pay for 1 Stripe subscription\n    to this product that has not ended (sub_live)" in page
    assert "Delete product" not in page
    response = post_form(vendor_client, f"/vendor/products/{product.id}/delete", {},
                         page=f"/vendor/products/{product.id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/products/{product.id}"
    shown = vendor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Customers pay for 1 Stripe subscription that has not ended (sub_live): cancel it in Stripe first" in shown
    assert db.get(Product, product.id) is not None and db.get(LicenseKey, key.id) is not None


def test_deleting_a_product_says_its_stripe_plans_go_with_it(vendor_client, product, db):
    db.add_all([StripeConnection(vendor_id=product.vendor_id),
                StripePrice(vendor_id=product.vendor_id, product_id=product.id, stripe_price_id="price_monthly")])
    db.commit()
    page = vendor_client.get(f"/vendor/products/{product.id}/delete").get_data(as_text=True)
    assert "Its Stripe plan is unlinked from it too" in page and "Archive it in Stripe as well." in page


def test_product_data_objects(vendor_client, product, db):
    url = f"/vendor/data-objects/product/{product.id}"
    response = post_form(vendor_client, url, {"name": "edition", "string_value": "gold", "int_value": "1"})
    assert response.status_code == 303 and response.headers["Location"] == url
    stored = db.exec(select(DataObject)).one()
    assert (stored.referencer_type, stored.referencer_id) == (1, product.id)
    assert "edition" in vendor_client.get(f"/vendor/products/{product.id}").get_data(as_text=True)


def test_a_product_without_keys_shows_how_to_make_one_and_no_search_or_export(vendor_client, make, product):
    """The newcomer's try: an empty product showed the key search, "This product has 0 keys." and an export."""
    page = vendor_client.get(f"/vendor/products/{product.id}").get_data(as_text=True)
    assert "No keys yet." in page and "Create a key" in page
    assert 'id="key-search"' not in page and "Export all keys" not in page and "0 keys" not in page
    make.key(product)
    page = vendor_client.get(f"/vendor/products/{product.id}").get_data(as_text=True)
    assert 'id="key-search"' in page and "Export all keys" in page and "This product has 1 key." in page


def test_search_in_the_url_and_fragment(vendor_client, make, product):
    keys = [make.key(product) for _ in range(3)]
    page = vendor_client.get(f"/vendor/products/{product.id}?q=id%3D2")
    html = page.get_data(as_text=True)
    assert keys[1].key in html and keys[0].key not in html and keys[2].key not in html
    fragment = vendor_client.get(f"/vendor/products/{product.id}?q=id%3D2", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True) and keys[1].key in fragment.get_data(as_text=True)
    assert 'hx-push-url="true"' in html


def test_bare_key_finds_the_key(vendor_client, make, product):
    key, other = make.key(product), make.key(product)
    html = vendor_client.get(f"/vendor/products/{product.id}", query_string={"q": key.key.lower()}).get_data(
        as_text=True)
    assert key.key in html and other.key not in html


def test_malformed_query_points_at_the_place(vendor_client, product):
    response = vendor_client.get(f"/vendor/products/{product.id}", query_string={"q": "id = 2 and (F1 = true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="query-error"' in html and "character" in html and "^" in html


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(max_size=60))
def test_no_query_makes_a_server_error(vendor_client, product, query):
    response = vendor_client.get(f"/vendor/products/{product.id}", query_string={"q": query},
                                 headers={"HX-Request": "true"})
    assert response.status_code in (200, 400)


def test_keyset_pages_walk_every_key_once(vendor_client, app, make, product):
    app.config["PAGE_SIZE"] = 2
    made = {make.key(product).key for _ in range(5)}
    seen = [key for html in walk_pages(vendor_client, f"/vendor/products/{product.id}") for key in made if key in html]
    assert sorted(seen) == sorted(made)


def test_csv_export_streams_the_matching_keys_and_defuses_formulas(vendor_client, make, product):
    make.key(product, notes="=HYPERLINK(\"http://evil\")")
    make.key(product, notes="plain", f1=True)
    response = vendor_client.get(f"/vendor/products/{product.id}/keys.csv", query_string={"q": "F1 = true"})
    assert response.status_code == 200 and response.mimetype == "text/csv" and response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:7] == ["ID", "Key", "Created", "Expires", "Period", "Pro", "Export"]
    assert len(rows) == 2 and rows[1][rows[0].index("Notes")] == "plain"
    everything = list(csv.reader(io.StringIO(vendor_client.get(
        f"/vendor/products/{product.id}/keys.csv").get_data(as_text=True))))
    assert any(row[rows[0].index("Notes")] == "'=HYPERLINK(\"http://evil\")" for row in everything[1:])


def test_export_of_a_bad_query_is_a_clear_400(vendor_client, product):
    response = vendor_client.get(f"/vendor/products/{product.id}/keys.csv", query_string={"q": "id <"})
    assert response.status_code == 400 and "character" in response.get_data(as_text=True)


def test_a_key_row_changes_as_soon_as_what_it_shows_changes(vendor_client, make, vendor, product, db):
    """Rows are cached per process by what they show: the key, its customer, the product's feature names."""
    from portal.customers.services import update_customer
    from portal.keys import services as keys
    from portal.products.services import update_product

    customer = make.customer(vendor, name="Ada Lovelace")
    key = make.key(product, customer=customer, period=100)

    def row() -> str:
        page = vendor_client.get(f"/vendor/products/{product.id}?q=id={key.key_number}",
                                 headers={"HX-Request": "true"}).get_data(as_text=True)
        return page[page.index("<tbody>"):page.index("</tbody>")]

    assert "Ada Lovelace" in row() and "Active" in row()
    keys.set_blocked(db, key=key, blocked=True, actor="test")
    update_customer(db, customer=db.get(Customer, customer.id), actor="test", name="Ada King")
    db.commit()
    assert "Blocked" in row() and "Ada King" in row() and "Ada Lovelace" not in row()
    keys.change_details(db, key=key, notes="", features={"f2": True}, max_no_of_machines=0, trial_activation=False,
                        actor="test")
    update_product(db, product=product, name=product.name, f2_name="Pro", actor="test")
    db.commit()
    assert ">Pro<" in row()


def test_two_features_of_one_name_are_refused_at_the_second(vendor_client, product, db):
    response = post_form(vendor_client, f"/vendor/products/{product.id}/edit",
                         {"name": product.name, "f1_name": "Cloud", "f3_name": "cloud"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="f3_name-error"' in html
    assert "F1 is shown as Cloud already: give each feature its own name." in html
    unnamed = post_form(vendor_client, f"/vendor/products/{product.id}/edit",
                        {"name": product.name, "f1_name": "F3"})  # F3 unnamed is shown as "F3" too
    assert unnamed.status_code == 422 and 'id="f3_name-error"' in unnamed.get_data(as_text=True)
    db.expire_all()
    assert db.get(Product, product.id).f1_name != "Cloud"


def test_a_second_product_of_one_name_is_refused(vendor_client, make, vendor, product, db):
    other = make.product(vendor, name="Photo Editor")
    created = post_form(vendor_client, "/vendor/products/new", {"name": f"  {product.name.upper()} "})
    html = created.get_data(as_text=True)
    assert created.status_code == 422 and 'id="name-error"' in html
    assert f"You have a product named {escape(product.name)} already" in html  # the name it has, not the one typed
    renamed = post_form(vendor_client, f"/vendor/products/{other.id}/edit", {"name": product.name})
    assert renamed.status_code == 422 and 'id="name-error"' in renamed.get_data(as_text=True)
    db.expire_all()
    assert db.exec(select(func.count()).select_from(Product).where(Product.vendor_id == vendor.id)).one() == 2
    assert db.get(Product, other.id).name == "Photo Editor"
    assert post_form(vendor_client, "/vendor/products/new", {"name": "über tool"}).status_code == 303
    assert post_form(vendor_client, "/vendor/products/new", {"name": "ÜBER TOOL"}).status_code == 422
    assert post_form(vendor_client, "/vendor/products/new", {"name": "über  tool"}).status_code == 422
    other_vendors = make.product(make.vendor(slug="other.io"), name=product.name)  # another vendor's: theirs
    assert other_vendors.name == product.name
    # A name is checked only when it changes: a product saved again under its own name is not refused.
    assert post_form(vendor_client, f"/vendor/products/{other.id}/edit",
                     {"name": "Photo Editor", "description": "Edits photos."}).status_code == 303


@pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")
def test_two_products_of_one_name_created_at_once_are_refused_once(app, vendor, db):
    """PostgreSQL: a double-click on Create product. The second request waits for the first, then finds its name."""
    from sqlmodel import Session

    from portal.domain import DomainError
    from portal.products.services import create_product

    engine = app.extensions["db_engine"]
    outcome = []
    with Session(engine) as first:
        create_product(first, vendor_id=vendor.id, actor="test", name="Twin")
        first.flush()

        def second() -> None:
            with Session(engine) as session:
                try:
                    create_product(session, vendor_id=vendor.id, actor="test", name="twin ")
                    session.commit()
                    outcome.append("made")
                except DomainError as refusal:
                    outcome.append(refusal.message)

        worker = waiting_on_a_lock(second, "the second waits for the first's transaction")
        first.commit()
    worker.join(timeout=10)
    assert outcome == ["You have a product named Twin already: give this one a name of its own."]
    assert db.exec(select(Product.name).where(Product.vendor_id == vendor.id)).all() == ["Twin"]


@pytest.mark.skipif(TEST_DATABASE == "sqlite", reason="SQLite lets one writer in at a time")
def test_a_trial_key_made_while_its_product_is_renamed_neither_waits_nor_deadlocks(app, make, vendor, monkeypatch):
    """PostgreSQL: CreateTrialKey holds the product's row, then inserts a key (which refers to the vendor's row); a
    rename holds the vendor's row for its name check, then updates the product. The name check's lock must let the
    key's insert through, or each waits for the other."""
    import threading

    from sqlmodel import Session

    import portal.keys.services as keys
    from portal.products.services import update_product

    product = make.product(vendor, name="Demo App")
    engine = app.extensions["db_engine"]
    failures, renaming = [], threading.Event()
    create_key = keys.create_key

    def create_key_once_the_rename_holds_the_vendor(*args, **kwargs):
        renaming.wait(5)
        threading.Event().wait(0.3)
        return create_key(*args, **kwargs)

    monkeypatch.setattr(keys, "create_key", create_key_once_the_rename_holds_the_vendor)

    def trial() -> None:
        with Session(engine) as session:
            try:
                keys.create_trial_key(session, product=session.get(Product, product.id), mid="m1", actor="api")
                session.commit()
            except Exception as error:  # noqa: BLE001 - reported below, whatever it is
                failures.append(type(getattr(error, "orig", error)).__name__)

    worker = threading.Thread(target=trial)
    worker.start()
    threading.Event().wait(0.3)  # the trial key's transaction holds the product's row
    with Session(engine) as session:
        renaming.set()
        update_product(session, product=session.get(Product, product.id), actor="vendor", name="Renamed")
        session.commit()
    worker.join(10)
    assert failures == [] and not worker.is_alive()
