"""The customer dashboard asks the database the same number of questions whether the customer holds 1 key or 20."""

import re

import pytest

from tests.support.pages import post_form
from tests.support.queries import counted_queries


def dashboard_queries(app, client, vendor) -> list[str]:
    client.get(f"/Portal/@{vendor.slug}/")  # the first request may warm caches; count a steady one
    with counted_queries(app) as statements:
        response = client.get(f"/Portal/@{vendor.slug}/")
    assert response.status_code == 200
    return [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]


@pytest.fixture
def product(make, vendor):
    return make.product(vendor, name="Demo App")


def test_dashboard_queries_do_not_grow_with_the_keys(app, portal_client, make, vendor, customer, product):
    make.key(product, customer=customer, machines=("m-1",))
    with_one = dashboard_queries(app, portal_client, vendor)
    for n in range(19):
        make.key(product, customer=customer, machines=(f"m-{n}-a", f"m-{n}-b") if n % 4 == 0 else ())
    with_twenty = dashboard_queries(app, portal_client, vendor)
    assert portal_client.get(f"/Portal/@{vendor.slug}/").get_data(as_text=True).count('class="license"') == 20
    assert len(with_twenty) == len(with_one), "\n".join(with_twenty)


def test_dashboard_with_terms_asks_a_handful_of_questions(app, portal_client, make, vendor, customer, product):
    make.terms(vendor)
    make.key(product, customer=customer)
    page = portal_client.get(f"/Portal/@{vendor.slug}/Terms")
    assert page.status_code == 200
    accepted = post_form(portal_client, f"/Portal/@{vendor.slug}/Terms", {})
    assert accepted.status_code == 303 and accepted.headers["Location"] == f"/Portal/@{vendor.slug}/"
    statements = dashboard_queries(app, portal_client, vendor)
    # One for the vendor, the account with its customer and the terms gate; one for the keys with their machines;
    # one for the subscriptions with whether there is a Stripe customer; one for the plans on offer.
    assert len(statements) == 4, "\n".join(statements)


def test_a_portal_request_reads_no_secrets(app, portal_client, make, vendor, customer, product):
    """Every portal request loads its account and customer: never the password hash, the customer's secret, the
    association code or the vendor's notes on the customer, which no portal page shows. (It reads the login's
    session secret, which the cookie must match.)"""
    make.key(product, customer=customer)
    statements = " ".join(dashboard_queries(app, portal_client, vendor))
    for column in ("password_hash", "association_code_encrypted", "notes"):
        assert column not in statements, column
    assert not re.search(r"(?<!session_)secret", statements)
