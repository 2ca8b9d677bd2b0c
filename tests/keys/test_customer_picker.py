"""The customer picker on the key forms: a lone match is chosen as one types, a choice the typed text no longer finds
is dropped; typed text with no customer chosen, or a choice from the list of an earlier search, is refused at the
field (without JavaScript too), on "New license key", bulk keys and the key page's change."""

import re

import pytest
from sqlmodel import select

from portal.models import KeyBatch, LicenseKey
from tests.support.pages import post_form


@pytest.fixture
def product(make, vendor):
    return make.product(vendor)


@pytest.fixture
def people(make, vendor, other_vendor):
    make.customer(other_vendor, name="Grace Other")
    return {"grace": make.customer(vendor, name="Grace Hopper", email="grace@navy.test",
                                           company_name="Engines"),
            "alan": make.customer(vendor, name="Alan Turing", email="alan@bletchley.test",
                                          company_name="Engines")}


def checked(html: str) -> list[str]:
    return re.findall(r'name="customer_id" value="(\d*)" checked', html)


def choices(client, **args) -> str:
    return client.get("/vendor/customers/picker", query_string=args, headers={"HX-Request": "true"}).get_data(
        as_text=True)


def test_a_lone_match_is_chosen_as_one_types(vendor_client, people):
    grace, alan = people["grace"], people["alan"]
    assert checked(choices(vendor_client, customer_search="hopp")) == [str(grace.id)]
    assert checked(choices(vendor_client, customer_search="engines")) == [""]  # two match: nothing chosen for you
    # A lone match replaces the earlier choice, which stays listed to go back to.
    html = choices(vendor_client, customer_search="turing", customer_id=grace.id)
    assert checked(html) == [str(alan.id)] and "Grace Hopper" in html
    # Another vendor's customer is never listed or chosen.
    assert "Grace Other" not in choices(vendor_client, customer_search="grace")


def test_the_choice_stays_only_while_the_typed_text_finds_it(vendor_client, make, vendor, people):
    grace = people["grace"]
    assert checked(choices(vendor_client, customer_search="engines", customer_id=grace.id)) == [str(grace.id)]
    # Text that no longer finds her: nothing chosen, said so, and she is offered apart to go back to.
    html = choices(vendor_client, customer_search="zzzz", customer_id=grace.id)
    assert checked(html) == [""] and "No customer matches &ldquo;zzzz&rdquo;." in html
    assert "Grace Hopper" in html and "chosen before; the search does not find it" in html
    assert checked(choices(vendor_client, customer_search="bletchley", customer_id=grace.id)) == [""]
    # Found beyond the first choices listed (the newest), she stays chosen.
    for n in range(10):
        make.customer(vendor, name=f"Engineer {n}", company_name="Engines")
    html = choices(vendor_client, customer_search="engines", customer_id=grace.id)
    assert checked(html) == [str(grace.id)] and "chosen before" not in html


@pytest.mark.parametrize(("url", "extra"), [("/vendor/keys/new", {}), ("/vendor/keys/bulk", {"count": "3"})])
def test_typed_text_without_a_chosen_customer_is_refused_at_the_field(vendor_client, product, people, db, url, extra):
    data = {"product_id": product.id, "period": "30", "customer_id": "", "customer_search": "hopper"} | extra
    response = post_form(vendor_client, url, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="customer_id-error" class="field-error">You typed “hopper” but chose no customer', html)
    assert 'aria-describedby="customer_id-error"' in html and 'value="hopper"' in html
    assert db.exec(select(LicenseKey)).all() == [] and db.exec(select(KeyBatch)).all() == []
    # The refused page lists the match, chosen: submitting again gives the key to her.
    assert checked(html) == [str(people["grace"].id)] and 'name="choices_of" value="hopper"' in html
    response = post_form(vendor_client, url, data | {"customer_id": people["grace"].id, "choices_of": "hopper"})
    assert response.status_code == 303
    assert {key.customer_id for key in db.exec(select(LicenseKey)).all()} == {people["grace"].id}


@pytest.mark.parametrize(("url", "extra"), [("/vendor/keys/new", {}), ("/vendor/keys/bulk", {"count": "3"})])
def test_a_choice_from_the_list_of_an_earlier_search_is_refused(vendor_client, product, people, db, url, extra):
    """Sent before the list caught up with the typing (Enter pressed at once): the customer chosen is the earlier
    search's, which the text typed since may not find."""
    grace = people["grace"]
    data = {"product_id": product.id, "period": "30", "customer_id": grace.id, "customer_search": "zzzz",
            "choices_of": "grace"} | extra
    response = post_form(vendor_client, url, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "The list had not yet caught up with “zzzz”." in html
    assert checked(html) == [""] and "No customer matches &ldquo;zzzz&rdquo;." in html
    assert db.exec(select(LicenseKey)).all() == [] and db.exec(select(KeyBatch)).all() == []
    # The list of the text typed (found by it, she is chosen) is taken.
    response = post_form(vendor_client, url, data | {"customer_search": "grace hopper", "choices_of": "grace hopper"})
    assert response.status_code == 303
    assert {key.customer_id for key in db.exec(select(LicenseKey)).all()} == {grace.id}


def test_no_customer_is_still_a_choice_with_an_empty_search(vendor_client, product, db):
    response = post_form(vendor_client, "/vendor/keys/new",
                         {"product_id": product.id, "period": "30", "customer_id": "", "customer_search": "  "})
    assert response.status_code == 303 and db.exec(select(LicenseKey.customer_id)).all() == [None]


def test_changing_the_customer_refuses_typed_text_too(vendor_client, make, product, people, db):
    key = make.key(product, customer=people["alan"])
    page = f"/vendor/keys/{key.id}"
    response = post_form(vendor_client, f"{page}/customer", {"customer_id": "", "customer_search": "zzz"}, page=page)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "You typed “zzz” but chose no customer" in html
    assert "leave the key without a customer" in html
    db.refresh(key)
    assert key.customer_id == people["alan"].id
