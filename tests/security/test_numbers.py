"""Finding 2 of the security test: a number of hundreds of digits in any number field is a message at the field,
a 422, and nothing stored (it was a 500)."""

import pytest

from tests.support.pages import post_form
from tests.support.world import db_rows

HUGE = "9" * 310


@pytest.mark.parametrize(("page", "field", "data"), [
    ("/vendor/customers/new", "max_no_of_devices", {"name": "Grace"}),
    ("/vendor/customers/{customer}/edit", "max_no_of_devices", {"name": "Grace"}),
    ("/vendor/keys/new?product={product}", "period", {"product_id": "{product}"}),
    ("/vendor/keys/new?product={product}", "max_no_of_machines", {"product_id": "{product}", "period": "30"}),
    ("/vendor/keys/bulk?product={product}", "count", {"product_id": "{product}", "period": "30"}),
    ("/vendor/keys/{key}/details", "max_no_of_machines", {}),
    ("/vendor/keys/{key}/extend", "days", {}),
    ("/vendor/data-objects/", "int_value", {"name": "size"}),
    ("/vendor/data-objects/{data_object}/edit", "int_value", {"name": "size"}),
])
@pytest.mark.parametrize("value", [HUGE, "-" + HUGE, "9" * 5000])
def test_a_huge_number_is_refused_at_its_field(app, make, vendor, customer, vendor_client, db, page, field, data,
                                               value):
    from portal.dataobjects.services import add_object

    product = make.product(vendor)
    key = make.key(product)
    data_object = add_object(db, vendor_id=vendor.id, name="size", actor="test")
    db.commit()
    ids = {"customer": customer.id, "product": product.id, "key": key.id, "data_object": data_object.id}
    url = page.format(**ids)
    form_page = f"/vendor/keys/{key.id}" if "/vendor/keys/" + str(key.id) in url else url
    before = db_rows(app)
    response = post_form(vendor_client, url, {**{k: v.format(**ids) for k, v in data.items()}, field: value},
                         page=form_page)
    assert response.status_code == 422
    assert f'<small id="{field}-error" class="field-error">' in response.get_data(as_text=True)
    assert db_rows(app) == before
