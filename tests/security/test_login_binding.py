"""Finding 1 of the security test: the cookie of a removed portal login opened the next login made at the vendor
(SQLite reused its id, and every login started at session version 1). A login is now bound to a random secret,
and the ids a cookie or a link names are never handed out twice."""

from sqlmodel import delete, select

from portal.models import Customer, PortalAccount, VendorUser
from tests.support.factories import VENDOR_PASSWORD
from tests.support.pages import post_form, redirect_path


def _dashboard(client, vendor):
    return client.get(f"/Portal/@{vendor.slug}/")


def test_a_detached_logins_cookie_opens_no_later_login(app, make, vendor, customer, account, vendor_client,
                                                      portal_client, db):
    account_id = account.id
    assert _dashboard(portal_client, vendor).status_code == 200
    response = post_form(vendor_client, f"/vendor/customers/{customer.id}/accounts/{account_id}/detach", {},
                         page=f"/vendor/customers/{customer.id}")
    assert response.headers["Location"] == f"/vendor/customers/{customer.id}"
    newcomer = make.account(vendor, make.customer(vendor, name="Newcomer"), email="new@example.test")
    assert newcomer.id != account_id
    response = _dashboard(portal_client, vendor)
    assert response.status_code == 303 and response.headers["Location"].startswith(f"/Portal/@{vendor.slug}/Login")


def test_a_deleted_customers_login_cookie_opens_no_later_login(app, make, vendor, customer, account, vendor_client,
                                                              portal_client, db):
    customer_id = customer.id
    response = post_form(vendor_client, f"/vendor/customers/{customer_id}/delete", {})
    assert response.headers["Location"] == "/vendor/customers/"
    other = make.customer(vendor, name="Other")
    assert other.id != customer_id
    make.account(vendor, other, email="other@example.test")
    response = _dashboard(portal_client, vendor)
    assert response.status_code == 303 and redirect_path(response) == f"/Portal/@{vendor.slug}/Login"


def test_ids_are_not_handed_out_again_after_the_newest_row_is_deleted(make, vendor, customer, account, db):
    account_id, customer_id = account.id, customer.id
    for model in (PortalAccount, Customer):
        db.exec(delete(model))
    db.commit()
    again = make.account(vendor, make.customer(vendor, name="Again"), email="again@example.test")
    assert again.id > account_id and again.customer_id > customer_id


def test_a_removed_vendor_users_cookie_opens_no_later_one(app, make, vendor, vendor_client, db):
    owner_id = make.owner(vendor).id
    db.exec(delete(VendorUser).where(VendorUser.id == owner_id))
    db.commit()
    from portal.vendors.services import register_vendor

    newcomer = register_vendor(db, name="Initech", slug="initech", email="boss@initech.test",
                               password=VENDOR_PASSWORD)
    db.commit()
    assert newcomer.id != owner_id
    response = vendor_client.get("/vendor/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/vendor/login")


def test_logging_out_ends_a_copied_cookie(app, make, vendor, portal_client, account, db):
    secret = account.session_secret
    copy = app.test_client()
    copy.set_cookie("session", portal_client.get_cookie("session").value)
    assert _dashboard(copy, vendor).status_code == 200
    post_form(portal_client, f"/Portal/@{vendor.slug}/Logout", {}, page=f"/Portal/@{vendor.slug}/")
    response = _dashboard(copy, vendor)
    assert response.status_code == 303 and redirect_path(response) == f"/Portal/@{vendor.slug}/Login"
    assert db.exec(select(PortalAccount.session_secret).where(PortalAccount.id == account.id)).one() != secret


def test_logging_in_gives_a_new_csrf_token(app, make, vendor, account):
    client = app.test_client()
    login = f"/Portal/@{vendor.slug}/Login"
    client.get(login)
    with client.session_transaction() as before:
        token_before = before.get("csrf_token")
    make.login_portal(client, vendor, account)
    with client.session_transaction() as after:
        assert token_before and after.get("csrf_token") != token_before
