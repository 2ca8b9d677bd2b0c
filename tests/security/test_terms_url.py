"""Finding 5 of the security test: a terms address longer than the acceptance record holds locked every customer
out at "I accept" (a 500 on PostgreSQL). One length rule for a web address, checked where it is entered."""

from sqlmodel import select

from portal.dataobjects.services import TERMS_URL
from portal.models import URL_MAX, DataObject, TermsAcceptance
from tests.support.pages import post_form


def _url(length: int) -> str:
    start = "https://acme.example/terms?v="
    return start + "a" * (length - len(start))


def test_a_terms_address_over_the_limit_is_refused_where_it_is_entered(vendor_client, db):
    response = post_form(vendor_client, "/vendor/data-objects/", {"name": TERMS_URL, "string_value": _url(URL_MAX + 1),
                                                                  "int_value": "0"})
    assert response.status_code == 422
    assert f"at most {URL_MAX:,} characters" in response.get_data(as_text=True)
    assert db.exec(select(DataObject)).all() == []


def test_the_longest_terms_address_allowed_can_be_accepted(vendor_client, portal_client, vendor, account, db):
    url = _url(URL_MAX)
    response = post_form(vendor_client, "/vendor/data-objects/", {"name": TERMS_URL, "string_value": url,
                                                                  "int_value": "0"})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/data-objects/"
    response = post_form(portal_client, f"/Portal/@{vendor.slug}/Terms", {})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"
    assert db.exec(select(TermsAcceptance.url)).all() == [url]
    assert portal_client.get(f"/Portal/@{vendor.slug}/").status_code == 200
