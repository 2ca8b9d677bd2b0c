"""The terms of use in the vendor's Settings: the same `cryptolens_customtosurl` the gate and the data objects page
use, with the gate's state, who accepted, and a confirmation before every customer is asked again."""

from sqlmodel import select

from portal.dataobjects.services import TERMS_URL
from portal.models import DataObject
from portal.terms import services
from tests.support.pages import csrf_token, post_form, redirect_path

TERMS_PAGE = "/vendor/settings/terms"


def terms_object(db, vendor):
    return db.exec(select(DataObject).where(DataObject.vendor_id == vendor.id, DataObject.name == TERMS_URL)).first()


def test_settings_say_the_gate_is_off_then_a_new_address_is_confirmed_first(vendor_client, db, vendor):
    page = vendor_client.get("/vendor/settings").get_data(as_text=True)
    assert 'id="terms"' in page and "Off" in page and "not asked to accept any terms" in page

    response = post_form(vendor_client, TERMS_PAGE, {"url": "https://acme.example/terms"}, page="/vendor/settings")
    confirm = response.get_data(as_text=True)
    assert response.status_code == 200 and "Ask your customers to accept these terms?" in confirm
    assert 'name="confirmed" value="y"' in confirm
    assert terms_object(db, vendor) is None  # nothing is written before the confirmation

    response = post_form(vendor_client, TERMS_PAGE, {"url": "https://acme.example/terms", "confirmed": "y"},
                         page="/vendor/settings")
    assert redirect_path(response) == "/vendor/settings"
    assert terms_object(db, vendor).string_value == "https://acme.example/terms"
    # The data objects page shows the same object, and keeps editing it as before.
    assert "https://acme.example/terms" in vendor_client.get("/vendor/data-objects/").get_data(as_text=True)


def test_the_count_of_customers_who_accepted_the_current_address(vendor_client, make, db, vendor, account, customer):
    make.terms(vendor, "https://acme.example/terms-v1")
    other = make.customer(vendor, name="Bob")
    make.account(vendor, other, email="bob@example.test")
    services.accept_terms(db, account=account, url="https://acme.example/terms-v1")
    services.accept_terms(db, account=account, url="https://acme.example/terms-v0")
    db.commit()
    settings = services.terms_settings(db, vendor_id=vendor.id)
    assert (settings.url, settings.accepted_customers, settings.customers_with_login) == (
        "https://acme.example/terms-v1", 1, 2)
    page = vendor_client.get("/vendor/settings").get_data(as_text=True)
    assert "On" in page and "1 of 2 customers" in page and "have accepted" in page

    response = post_form(vendor_client, TERMS_PAGE, {"url": "https://acme.example/terms-v2"}, page="/vendor/settings")
    assert "including the\n       1 who has accepted" in response.get_data(as_text=True)


def test_unchanged_and_removed(vendor_client, make, db, vendor):
    make.terms(vendor, "https://acme.example/terms")
    response = post_form(vendor_client, TERMS_PAGE, {"url": "https://acme.example/terms"}, page="/vendor/settings")
    assert redirect_path(response) == "/vendor/settings"
    response = post_form(vendor_client, TERMS_PAGE, {"url": ""}, page="/vendor/settings")
    assert redirect_path(response) == "/vendor/settings"
    assert terms_object(db, vendor) is None
    assert "no longer asked" in vendor_client.get("/vendor/settings").get_data(as_text=True)


def test_a_bad_address_is_refused_at_the_field_and_nothing_is_written(vendor_client, make, db, vendor):
    make.terms(vendor, "https://acme.example/terms")
    token = csrf_token(vendor_client, "/vendor/settings")
    for bad in ("javascript:alert(1)", "ftp://acme.example/terms", "acme.example/terms", "https://" + "a" * 2100):
        for confirmed in ("", "y"):
            response = vendor_client.post(TERMS_PAGE, data={"csrf_token": token, "url": bad, "confirmed": confirmed})
            page = response.get_data(as_text=True)
            assert response.status_code == 422, bad
            assert 'id="url-error"' in page and ("http:// or https://" in page or "At most" in page)
    assert terms_object(db, vendor).string_value == "https://acme.example/terms"
