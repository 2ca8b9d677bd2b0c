import json

from sqlmodel import select

from portal.models import AuditEvent, Customer, PortalAccount
from tests.support.pages import post_form

FIELDS = {"name": "O'Brien <ACME>", "email": "obrien@example.test", "company_name": "ACME & Sons",
          "notes": "Met at <b>the fair</b>", "max_no_of_devices": "3"}


def test_create_customer_stores_text_as_given_and_shows_it_escaped(vendor_client, db):
    response = post_form(vendor_client, "/vendor/customers/new", FIELDS, page="/vendor/customers/new")
    customer = db.exec(select(Customer)).one()
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/customers/{customer.id}"
    assert customer.name == "O'Brien <ACME>" and customer.notes == "Met at <b>the fair</b>"
    assert len(customer.secret) == 36 and customer.max_no_of_devices == 3
    page = vendor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "O&#39;Brien &lt;ACME&gt;" in page and "<b>the fair</b>" not in page
    assert "<li>Name: <span>O&#39;Brien &lt;ACME&gt;</span></li>" in page  # a value made, not changed: "Label: value"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "customer.created")).one()
    assert json.loads(event.after)["name"] == "O'Brien <ACME>"
    assert event.actor.startswith("vendor_user:")


def test_saving_a_customer_with_another_customers_email_is_allowed_and_says_what_it_means(vendor_client, customer,
                                                                                          db):
    """The newcomer's try: a second customer of one address was taken silently, and a sign-up with it then made a
    third record (it can join neither of two)."""
    response = post_form(vendor_client, "/vendor/customers/new", {"name": "Ada Again", "email": " ADA@example.TEST "},
                         page="/vendor/customers/new")
    assert response.status_code == 303 and db.exec(select(Customer)).all()[-1].name == "Ada Again"
    page = vendor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Customer created." in page and f"Ada Lovelace (#{customer.id}) has this e-mail address too" in page
    assert "flash-warning" in page and "joined to neither" in page
    second = db.exec(select(Customer)).all()[-1]
    for shown, other in ((customer, second), (second, customer)):  # each page points to the other, for good
        page = vendor_client.get(f"/vendor/customers/{shown.id}").get_data(as_text=True)
        assert f'<a href="/vendor/customers/{other.id}">{other.name} (#{other.id})</a>' in page
    alone = post_form(vendor_client, f"/vendor/customers/{customer.id}/edit", {"name": "Ada", "email": "ada@own.test"})
    assert "has this e-mail address too" not in vendor_client.get(alone.headers["Location"]).get_data(as_text=True)


def test_edit_records_before_and_after(vendor_client, customer, db):
    response = post_form(vendor_client, f"/vendor/customers/{customer.id}/edit", {"name": "Ada King"})
    assert response.status_code == 303 and response.headers["Location"] == f"/vendor/customers/{customer.id}"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "customer.updated")).one()
    assert json.loads(event.before)["name"] == "Ada Lovelace" and json.loads(event.after)["name"] == "Ada King"
    page = vendor_client.get(f"/vendor/customers/{customer.id}").get_data(as_text=True)
    assert "Customer changed" in page and "Ada Lovelace</del> &rarr; <ins>Ada King" in page


def test_delete_asks_first_and_says_what_happens(vendor_client, make, vendor, customer, account, db):
    page = vendor_client.get(f"/vendor/customers/{customer.id}/delete").get_data(as_text=True)
    assert "It has no license keys." in page and account.email in page
    product = make.product(vendor)
    make.key(product, customer=customer), make.key(product, customer=customer)
    page = vendor_client.get(f"/vendor/customers/{customer.id}/delete").get_data(as_text=True)
    assert "Its 2 license keys stay, with no customer" in page
    customer_id = customer.id
    response = post_form(vendor_client, f"/vendor/customers/{customer_id}/delete", {})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/customers/"
    assert db.get(Customer, customer_id) is None
    assert db.exec(select(PortalAccount)).all() == []


def test_association_toggle_with_htmx_replaces_the_component(vendor_client, customer, db):
    page = f"/vendor/customers/{customer.id}"
    response = post_form(vendor_client, f"{page}/association", {"action": "enable"}, page=page,
                         headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<section id="association"')
    assert "/Associate?id=" in html and "HX-Request" in response.headers["Vary"]
    stored = db.get(Customer, customer.id)
    assert stored.enable_customer_association and "auth=" not in (stored.association_code_encrypted or "")


def test_association_code_is_encrypted_at_rest_and_long(make, vendor, db, app):
    customer = make.customer(vendor, association=True)
    link = make.association_link(vendor, customer)
    code = link.split("auth=")[1]
    assert len(code) >= 32  # 192 random bits, URL-safe
    assert code not in db.get(Customer, customer.id).association_code_encrypted


def test_unknown_association_action_is_refused(vendor_client, customer):
    page = f"/vendor/customers/{customer.id}"
    assert post_form(vendor_client, f"{page}/association", {"action": "explode"}, page=page).status_code == 400


def test_a_number_past_the_limit_is_told_the_limit(vendor_client, make, vendor):
    answer = post_form(vendor_client, "/vendor/customers/new", {"name": "Big",
                                                               "max_no_of_devices": "99999999999999999999"})
    assert answer.status_code == 422 and "Give a whole number from 0 to 2,147,483,647." in answer.get_data(as_text=True)
    key = make.key(make.product(vendor))
    page = f"/vendor/keys/{key.id}"
    answer = post_form(vendor_client, f"{page}/extend", {"days": "9999999"}, page=page)
    assert answer.status_code == 422 and "from -36,500 to 36,500" in answer.get_data(as_text=True)


def test_making_a_new_link_or_turning_association_off_asks_first_and_says_what_invites(vendor_client, make, vendor):
    plain = make.customer(vendor, name="Plain")
    page = vendor_client.get(f"/vendor/customers/{plain.id}").get_data(as_text=True)
    assert "Turn customer association on above to get a link" in page
    invited = make.customer(vendor, name="Invited", association=True)
    page = vendor_client.get(f"/vendor/customers/{invited.id}").get_data(as_text=True)
    assert 'hx-confirm="Make a new link? The current link stops working at once."' in page
    assert "Turn association off? The current link stops working" in page
    assert "Send the association link above to invite this customer." in page


def test_a_customer_with_only_a_company_is_named_by_it(vendor_client, make, vendor, db):
    """The newcomer's try: such a customer was 'Customer #5' on its page and a number on its keys."""
    product = make.product(vendor)
    firm = make.customer(vendor, name="", email="", company_name="Engines Ltd")
    key = make.key(product, customer=firm)
    page = vendor_client.get(f"/vendor/customers/{firm.id}").get_data(as_text=True)
    assert "<h1>Engines Ltd</h1>" in page and "<title>Engines Ltd" in page
    assert ">Engines Ltd</a>" in vendor_client.get(f"/vendor/keys/{key.id}").get_data(as_text=True)
    assert ">Engines Ltd</a>" in vendor_client.get(f"/vendor/products/{product.id}").get_data(as_text=True)
    assert "Delete Engines Ltd?" in vendor_client.get(f"/vendor/customers/{firm.id}/delete").get_data(as_text=True)


def test_the_shared_email_warning_names_the_customer_a_sign_up_would_join(vendor_client, customer, account, db):
    """The second reader: Ada has a login, so a sign-up with her address joins the new customer alone."""
    response = post_form(vendor_client, "/vendor/customers/new", {"name": "Ada Again", "email": "ada@example.test"},
                         page="/vendor/customers/new")
    again = db.exec(select(Customer).where(Customer.name == "Ada Again")).one()
    page = vendor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Someone who signs up with it joins this customer (#{again.id})." in page and "neither" not in page
