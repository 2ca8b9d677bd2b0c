"""Finding 3 of the security test: ten wrong passwords a minute locked the owner out of every portal. Only
failures count, per login and per address; the owner's correct password from a clean address always gets in."""

import pytest

from tests.support.factories import CUSTOMER_PASSWORD, VENDOR_PASSWORD
from tests.support.pages import csrf_token

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


@pytest.fixture(params=["vendor", "portal"])
def login(request, app, make, vendor, account):
    """(the login page, the e-mail, the right password) of a vendor owner or of a portal account."""
    if request.param == "vendor":
        return "/vendor/login", make.owner(vendor).email, VENDOR_PASSWORD
    return f"/Portal/@{vendor.slug}/Login", account.email, CUSTOMER_PASSWORD


def logged_in(response, url: str) -> bool:
    """Whether a login answered by sending to its home page: the dashboard, or the portal's first page."""
    home = "/vendor/" if url.startswith("/vendor/") else url.removesuffix("Login")
    return response.status_code == 303 and response.headers["Location"] == home


def attempt(app, url, email, password, address):
    client = app.test_client()
    token = csrf_token(client, url)
    return client.post(url, data={"csrf_token": token, "email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_the_owner_gets_in_while_an_attacker_is_refused(app, login):
    url, email, password = login
    statuses = [attempt(app, url, email, f"guess-number-{n}", ATTACKER).status_code for n in range(12)]
    assert statuses == [422] * 10 + [429] * 2
    refused = attempt(app, url, email, password, ATTACKER)
    assert refused.status_code == 429, "the attacker's address is refused"
    assert "Try again within 15 minutes." in refused.get_data(as_text=True)  # the lockout's window, not a minute
    assert refused.headers["Retry-After"] == "900"
    response = attempt(app, url, email, password, OWNER)
    assert logged_in(response, url), "the owner's right password from a clean address gets in"


def test_a_spread_attack_gets_one_try_per_fresh_address(app, login):
    url, email, password = login
    statuses = [attempt(app, url, email, "wrong-password-1", f"192.0.2.{n}").status_code for n in range(1, 13)]
    assert statuses == [422] * 10 + [429] * 2
    assert logged_in(attempt(app, url, email, password, OWNER), url)


def test_successful_logins_count_for_nothing(app, login):
    url, email, password = login
    assert all(logged_in(attempt(app, url, email, password, OWNER), url) for _ in range(15))


def test_failures_at_one_portal_do_not_lock_another(app, make, vendor, other_vendor, account):
    twin = make.account(other_vendor, make.customer(other_vendor), email=account.email)
    for n in range(11):
        attempt(app, f"/Portal/@{vendor.slug}/Login", account.email, f"guess-{n}", ATTACKER)
    url = f"/Portal/@{other_vendor.slug}/Login"
    assert logged_in(attempt(app, url, twin.email, CUSTOMER_PASSWORD, ATTACKER), url)


@pytest.mark.parametrize("side", ["vendor", "portal"])
def test_wrong_current_passwords_are_limited(app, side, vendor, vendor_client, portal_client):
    client, url = (vendor_client, "/vendor/password") if side == "vendor" else (
        portal_client, f"/Portal/@{vendor.slug}/ChangePassword")
    token = csrf_token(client, url)
    data = {"csrf_token": token, "password": "a-new-password-1", "confirm": "a-new-password-1"}
    statuses = [client.post(url, data=data | {"current_password": f"guess-{n}"}).status_code for n in range(11)]
    assert statuses == [422] * 10 + [429]
