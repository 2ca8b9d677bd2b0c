from markupsafe import escape

from tests.support.factories import CUSTOMER_PASSWORD
from tests.support.pages import post_form, redirect_path


def login(client, vendor, email, password=CUSTOMER_PASSWORD, query=""):
    return post_form(client, f"/Portal/@{vendor.slug}/Login{query}", {"email": email, "password": password})


def test_login_lands_on_the_dashboard(client, vendor, account):
    response = login(client, vendor, account.email)
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{vendor.slug}/"


def test_login_follows_a_local_next(client, vendor, account):
    response = login(client, vendor, account.email, query="?next=/Portal/@acme.io/ChangePassword")
    assert response.headers["Location"] == "/Portal/@acme.io/ChangePassword"


def test_a_login_page_with_a_next_goes_on_when_logged_in_already(portal_client, vendor):
    page = f"/Portal/@{vendor.slug}/ChangePassword"
    assert redirect_path(portal_client.get(f"/Portal/@{vendor.slug}/Login?next={page}")) == page
    html = portal_client.get(f"/Portal/@{vendor.slug}/Login?next=//evil.example/").get_data(as_text=True)
    assert "You are logged in as" in html  # a next that is not a path here is not followed


def test_wrong_password_and_unknown_email_answer_alike(client, vendor, account):
    wrong = login(client, vendor, account.email, "wrong-password")
    unknown = login(client, vendor, "nobody@example.test", "wrong-password")
    assert wrong.status_code == unknown.status_code == 422
    message = "That e-mail and password do not match an account."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)


def test_logout_ends_every_session_of_the_account(app, vendor, account, make):
    first, second = app.test_client(), app.test_client()
    make.login_portal(first, vendor, account)
    make.login_portal(second, vendor, account)
    post_form(first, f"/Portal/@{vendor.slug}/Logout", {}, page=f"/Portal/@{vendor.slug}/")
    for client in (first, second):
        assert redirect_path(client.get(f"/Portal/@{vendor.slug}/")) == f"/Portal/@{vendor.slug}/Login"


def test_a_login_in_one_portal_is_no_login_in_another(portal_client, other_vendor):
    response = portal_client.get(f"/Portal/@{other_vendor.slug}/")
    assert response.status_code == 303 and redirect_path(response) == f"/Portal/@{other_vendor.slug}/Login"


def test_vendor_and_portal_logins_live_side_by_side(vendor_client, make, vendor, account):
    make.login_portal(vendor_client, vendor, account)
    assert vendor_client.get("/vendor/").status_code == 200
    assert vendor_client.get(f"/Portal/@{vendor.slug}/").status_code == 200


def test_detaching_an_account_ends_its_sessions(vendor_client, portal_client, vendor, customer, account):
    post_form(vendor_client, f"/vendor/customers/{customer.id}/accounts/{account.id}/detach", {},
              page=f"/vendor/customers/{customer.id}")
    assert redirect_path(portal_client.get(f"/Portal/@{vendor.slug}/")) == f"/Portal/@{vendor.slug}/Login"


def test_deleting_the_customer_ends_its_accounts_sessions(vendor_client, portal_client, vendor, customer):
    post_form(vendor_client, f"/vendor/customers/{customer.id}/delete", {})
    assert redirect_path(portal_client.get(f"/Portal/@{vendor.slug}/")) == f"/Portal/@{vendor.slug}/Login"


def test_one_browser_logged_in_to_two_portals_sees_each_its_own(portal_client, make, vendor, other_vendor):
    other_customer = make.customer(other_vendor, name="Other Customer")
    other_account = make.account(other_vendor, other_customer, email="other@example.test")
    make.login_portal(portal_client, other_vendor, other_account)
    mine = portal_client.get(f"/Portal/@{vendor.slug}/")
    theirs = portal_client.get(f"/Portal/@{other_vendor.slug}/")
    assert mine.status_code == theirs.status_code == 200
    assert "other@example.test" in theirs.get_data(as_text=True)
    assert "other@example.test" not in mine.get_data(as_text=True)


def test_a_portals_tab_titles_name_its_vendor_and_the_vendors_pages_the_product(client, portal_client, vendor,
                                                                                vendor_client):
    """The header of a customer portal shows the vendor's name, so its tabs (and bookmarks) say it too."""
    name = escape(vendor.name)
    assert f"<title>Log in &middot; {name}</title>" in client.get(f"/Portal/@{vendor.slug}/Login").get_data(
        as_text=True)
    assert f"<title>Dashboard &middot; {name}</title>" in portal_client.get(
        f"/Portal/@{vendor.slug}/").get_data(as_text=True)
    assert "<title>Customers &middot; Licensing portal</title>" in vendor_client.get("/vendor/customers/").get_data(
        as_text=True)


def test_a_logged_in_customer_on_the_login_page_is_told_so_and_can_log_out(portal_client, vendor, account):
    login_page = f"/Portal/@{vendor.slug}/Login"
    html = portal_client.get(login_page).get_data(as_text=True)
    assert f"You are logged in as <strong>{account.email}</strong>." in html and 'name="password"' not in html
    assert f'<a href="/Portal/@{vendor.slug}/" role="button">Go to your licenses</a>' in html
    assert f'action="/Portal/@{vendor.slug}/Logout"' in html
    out = post_form(portal_client, f"/Portal/@{vendor.slug}/Logout", {}, page=login_page, follow_redirects=True)
    assert "You are logged out." in out.get_data(as_text=True) and 'name="password"' in out.get_data(as_text=True)
