"""Finding things: the navigation's key lookup across products, and the product page's key counts."""

import pytest

from portal.keys.find import find_keys
from portal.keys.search import key_counts


@pytest.fixture
def studio(make, vendor):
    return make.product(vendor, name="Studio")


def test_a_pasted_key_opens_its_page_across_products(vendor_client, make, vendor, studio):
    make.key(studio)
    key = make.key(make.product(vendor, name="Player"))
    response = vendor_client.get("/vendor/keys/find", query_string={"key": f"  {key.key.lower()}\n"})
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/keys/{key.id}"
    # The nav's lookup is on every vendor page.
    assert 'action="/vendor/keys/find"' in vendor_client.get("/vendor/customers/").get_data(as_text=True)


def test_a_part_lists_the_keys_that_contain_it_and_none_says_so(vendor_client, db, make, vendor, other_vendor,
                                                                studio):
    first, second = make.key(studio), make.key(studio)
    theirs = make.key(make.product(other_vendor, name="Theirs"))
    part = first.key[6:11]  # the second group
    found = find_keys(db, vendor_id=vendor.id, text=part)
    assert [k.id for k in found] == [first.id] or part in second.key
    assert find_keys(db, vendor_id=vendor.id, text=theirs.key) == []
    second.key = first.key[:6] + second.key[6:]
    db.add(second)
    db.commit()
    page = vendor_client.get("/vendor/keys/find", query_string={"key": first.key[:6]})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert first.key in html and second.key in html and "2 keys contain" in html
    missing = vendor_client.get("/vendor/keys/find", query_string={"key": theirs.key}).get_data(as_text=True)
    assert "No key of yours matches" in missing and "Theirs" not in missing


def test_a_key_typed_without_its_hyphens_or_with_spaces_is_found(vendor_client, db, make, vendor, studio):
    key = make.key(studio)
    letters = key.key.replace("-", "")
    response = vendor_client.get("/vendor/keys/find", query_string={"key": letters.lower()})
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/keys/{key.id}"
    spaced = vendor_client.get("/vendor/keys/find", query_string={"key": f"{letters[:5]} {letters[5:10]}"})
    assert spaced.status_code == 303 and spaced.headers["Location"] == f"/vendor/keys/{key.id}"  # the one match
    across = find_keys(db, vendor_id=vendor.id, text=letters[3:8])  # the end of one group, the start of the next
    assert [found.id for found in across] == [key.id]


def test_what_is_no_key_is_refused_at_the_field(vendor_client):
    for typed, message in [
        ("", "Paste a key or type at least 4 of its letters."),
        ("abc", "Paste a key or type at least 4 of its letters."),
        ("A-B-C", "Paste a key or type at least 4 of its letters."),
        ("ABCD1", "A key has only letters A-Z and hyphens"),
        ("<script>", "A key has only letters A-Z and hyphens"),
        ("A" * 5000, "That is longer than a key"),
    ]:
        response = vendor_client.get("/vendor/keys/find", query_string={"key": typed})
        assert response.status_code == 400, typed
        html = response.get_data(as_text=True)
        assert message in html and 'class="field-error"' in html and "<script>" not in html.split("<main", 1)[1]


def test_the_product_page_says_how_many_keys_it_has_and_match(vendor_client, db, make, studio):
    for period in (10, 30, 30):
        make.key(studio, period=period)
    html = vendor_client.get(f"/vendor/products/{studio.id}").get_data(as_text=True)
    assert "This product has 3 keys." in html
    html = vendor_client.get(f"/vendor/products/{studio.id}", query_string={"q": "period = 10"}).get_data(as_text=True)
    assert "1 of 3 keys matches" in html
    html = vendor_client.get(f"/vendor/products/{studio.id}", query_string={"q": "period = 30"},
                             headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "2 of 3 keys match" in html
    assert key_counts(db, product_id=studio.id, cap=2) == (3, None)  # past the cap: "more than 2"
    html_capped = vendor_client.get(f"/vendor/products/{studio.id}").get_data(as_text=True)
    assert "1 key" not in html_capped


def test_the_keys_address_is_the_lookup_with_the_way_to_the_lists(vendor_client):
    page = vendor_client.get("/vendor/keys/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="key"' in html and 'href="/vendor/products/"' in html
