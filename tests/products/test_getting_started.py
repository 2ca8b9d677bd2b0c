"""A product's "how to get started" text and download link: set by the vendor, shown on the customer's license card."""

import pytest
from sqlmodel import select

from portal.domain import DomainError
from portal.models import Product
from portal.products.services import download_url_problem, update_product
from tests.support.pages import post_form


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, name="Photo Editor")


def test_the_license_card_shows_how_to_get_started(vendor_client, portal_client, make, vendor, product, customer, db):
    make.key(product, customer=customer)
    text = "Install it.\nThen paste your key <here>."
    response = post_form(vendor_client, f"/vendor/products/{product.id}/edit", {
        "name": "Photo Editor", "getting_started": text, "download_url": "https://acme.example/download?os=mac&v=2"})
    assert response.status_code == 303
    stored = db.get(Product, product.id)
    assert (stored.getting_started, stored.download_url) == (text, "https://acme.example/download?os=mac&v=2")
    card = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "Install it.\nThen paste your key &lt;here&gt;." in card
    assert 'href="https://acme.example/download?os=mac&amp;v=2"' in card and "Download Photo Editor" in card
    # Changed again: the card (rendered once per content) shows the new text.
    again = post_form(vendor_client, f"/vendor/products/{product.id}/edit",
                      {"name": "Photo Editor", "getting_started": "New", "download_url": ""})
    assert again.status_code == 303, again.get_data(as_text=True)
    card = portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "New" in card and "Install it." not in card and "Download Photo Editor" not in card


@pytest.mark.parametrize("url", ["javascript:alert(1)", "acme.example/download", "https://acme.example/a b"])
def test_a_download_address_must_be_http_or_https(vendor_client, product, db, url):
    response = post_form(vendor_client, f"/vendor/products/{product.id}/edit", {"name": "Photo Editor",
                                                                                 "download_url": url})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="download_url-error"' in html
    assert db.exec(select(Product.download_url)).one() == ""


def test_the_service_holds_the_same_rule(product, db):
    with pytest.raises(DomainError, match="https://"):
        update_product(db, product=db.get(Product, product.id), actor="test", download_url="javascript:alert(1)")


@pytest.mark.parametrize(("url", "valid"), [
    ("", True), ("https://acme.example/d", True), ("http://acme.example/d?a=1", True), ("ftp://acme.example/x", False),
    ("https://", False), ("https://x.example/\tx", False), (" https://x.example/", False),
    ("https://x.example/" + "a" * 2048, False)])
def test_the_download_address_rule(url, valid):
    assert (download_url_problem(url) == "") is valid
