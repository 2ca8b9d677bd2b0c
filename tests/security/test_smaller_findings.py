"""The security test's smaller findings: the outbox stays on this machine, bulk keys refuse another vendor's customer
in the form, and with a base address set no answer points anywhere else, whatever Host a request names."""

import re

from sqlmodel import select

from portal.models import KeyBatch, LicenseKey
from tests.support.pages import post_form, redirect_path

BASE = "https://licenses.example.com"


def test_the_outbox_answers_only_this_machine(app, tmp_path):
    app.config["MAIL_BACKEND"] = "console"
    from portal.outbox.routes import blueprint

    if "outbox" not in app.blueprints:
        app.register_blueprint(blueprint)
    client = app.test_client()
    assert client.get("/dev/outbox/", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get("/dev/outbox/", environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    assert client.get("/dev/outbox/", environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 404


def test_check_your_mail_pages_point_a_developer_to_the_outbox(app):
    from flask import render_template

    from portal.outbox.routes import blueprint

    if "outbox" not in app.blueprints:
        app.register_blueprint(blueprint)
    with app.test_request_context():
        page = render_template("vendors/registration_check_mail.html", email="ada@example.test")
        assert "/dev/outbox/" not in page  # a real server's mail goes out
        app.config["MAIL_BACKEND"] = "console"
        page = render_template("vendors/registration_check_mail.html", email="ada@example.test")
        assert "the portal sends no mail; read it at" in page and 'href="/dev/outbox/"' in page


def test_bulk_keys_refuse_another_vendors_customer_in_the_form(vendor_client, make, vendor, other_vendor, db):
    product = make.product(vendor)
    foreign = make.customer(other_vendor, name="Foreign")
    url = f"/vendor/keys/bulk?product={product.id}"
    response = post_form(vendor_client, url, {"product_id": str(product.id), "customer_id": str(foreign.id),
                                              "period": "30", "count": "5"})
    assert response.status_code == 422
    assert "Choose one of your customers." in response.get_data(as_text=True)
    assert db.exec(select(KeyBatch)).all() == [] and db.exec(select(LicenseKey)).all() == []


def test_with_a_base_address_no_answer_points_elsewhere(app, make, vendor, customer, account, vendor_client,
                                                        portal_client):
    app.config["PORTAL_BASE_URL"] = BASE
    make.terms(vendor)
    forged = "http://evil.example"

    def at_forged_host(client):
        """The same login, its requests naming another Host."""
        moved = app.test_client()
        moved.set_cookie("session", client.get_cookie("session").value, domain="evil.example")
        return moved

    vendor_at, portal_at = at_forged_host(vendor_client), at_forged_host(portal_client)
    answers = [vendor_at.get("/vendor/settings", base_url=forged),
               vendor_at.get(f"/vendor/customers/{customer.id}", base_url=forged),
               app.test_client().get("/vendor/", base_url=forged),
               app.test_client().get(f"/Portal/@{vendor.slug}/", base_url=forged),
               portal_at.get(f"/Portal/@{vendor.slug}/", base_url=forged)]
    assert [response.status_code for response in answers] == [200, 200, 302, 303, 303]
    assert [redirect_path(response) for response in answers[2:]] == [
        "/vendor/login", f"/Portal/@{vendor.slug}/Login", f"/Portal/@{vendor.slug}/Terms"]
    for response in answers:
        location = response.headers.get("Location", "")
        assert location.startswith("/") or location.startswith(BASE) or not location, location
        links = re.findall(r'(?:href|src|action)="(https?://[^"]*)"|(https?://[^\s<"&]*/Portal/[^\s<"&]*)',
                           response.get_data(as_text=True))
        for link in (found for pair in links for found in pair if found):
            assert "evil.example" not in link, link
    settings = answers[0].get_data(as_text=True)
    assert f"{BASE}/Portal/@{vendor.slug}/SignUp" in settings
