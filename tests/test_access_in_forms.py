"""Records named by what a request carries (a form field, a query argument, a link's id, a login's e-mail):
another vendor's record, or in the portal another customer's, is refused, shown nowhere and changes nothing.

test_access.py walks the ids in URL paths; this table holds the ids a service resolves from anywhere in a request.
"""

from dataclasses import dataclass, field

import pytest
from sqlmodel import select

from portal.domain import DomainError
from portal.keys import services as keys
from portal.models import Customer, LicenseKey, PortalAccount
from portal.terms import services as terms
from tests.support.pages import csrf_token, post_form, redirect_path
from tests.support.world import World, db_rows

NOT_YOURS = "Choose one of your customers."
NOT_A_CHOICE = "Choose one of the options."
NO_MATCH = "That e-mail and password do not match an account."
LINK_NOT_VALID = "This link is not valid"
# A vendor may name any of its customers' records: what it must not name is another vendor's.
ANOTHER_VENDORS = ("foreign",)
# In the portal another customer's record is as foreign as another vendor's; so is, for a vendor, another
# customer's record under one of ours (a machine on our key, a login of our customer).
ANY_OTHER = ("foreign", "neighbour")


@dataclass(frozen=True)
class Carried:
    """A request naming a record that is not the requester's, and how it must be refused.

    `url` and the values of `data` are filled from the world: {own[kind]} is ours, {other[kind]} the other
    owner's (another vendor's, or another customer's), {slug} our portal, {own_link} the query string of an
    association link of ours, and {link}, {tokens[page]}, {login[...]} the other vendor's association link, live
    e-mail tokens and portal login.
    """

    who: str  # "vendor" (logged in to the dashboard), "portal" (logged in to our portal) or "stranger"
    method: str
    url: str
    status: int  # the refusal: 404, 422 with the form's `message`, or 200 for a page that leaves the record out
    message: str = ""
    data: dict = field(default_factory=dict)
    owners: tuple[str, ...] = ANOTHER_VENDORS
    htmx: bool = False

    def fill(self, world: World, owner: str) -> tuple[str, dict]:
        values = {"own": world.own, "other": world.ids(owner), "slug": world.slug, "link": world.foreign_link,
                  "tokens": world.foreign_tokens, "login": world.foreign_login,
                  "own_link": world.query["signup.associate"]}
        return self.url.format_map(values), {name: str(value).format_map(values) for name, value in self.data.items()}


NEW_KEY = {"product_id": "{own[product_id]}", "period": "30"}
NEW_LOGIN = {"which": "new", "new-name": "Mallory", "new-email": "mallory@example.test",
             "new-password": "a-long-password"}
NEW_PASSWORD = {"password": "a-new-password-1", "confirm": "a-new-password-1"}

CARRIED = {
    # The key forms: the product is a choice among the vendor's; the customer is checked by the key's service.
    "new key: customer_id": Carried("vendor", "POST", "/vendor/keys/new", 422, NOT_YOURS,
                                    NEW_KEY | {"customer_id": "{other[customer_id]}"}),
    "new key: product_id": Carried("vendor", "POST", "/vendor/keys/new", 422, NOT_A_CHOICE,
                                   NEW_KEY | {"product_id": "{other[product_id]}"}),
    "bulk keys: customer_id": Carried("vendor", "POST", "/vendor/keys/bulk", 422, NOT_YOURS,
                                      NEW_KEY | {"customer_id": "{other[customer_id]}", "count": "2"}),
    "bulk keys: product_id": Carried("vendor", "POST", "/vendor/keys/bulk", 422, NOT_A_CHOICE,
                                     NEW_KEY | {"product_id": "{other[product_id]}", "count": "2"}),
    "key page: change customer": Carried("vendor", "POST", "/vendor/keys/{own[key_id]}/customer", 422, NOT_YOURS,
                                         {"customer_id": "{other[customer_id]}"}),
    "new key page: ?customer=": Carried("vendor", "GET", "/vendor/keys/new?customer={other[customer_id]}", 200),
    "new key page: ?product=": Carried("vendor", "GET", "/vendor/keys/new?product={other[product_id]}", 200),
    "bulk key page: ?customer=": Carried("vendor", "GET", "/vendor/keys/bulk?customer={other[customer_id]}", 200),
    "bulk key page: ?product=": Carried("vendor", "GET", "/vendor/keys/bulk?product={other[product_id]}", 200),
    # The key forms' customer picker, and the searches that take an id.
    "customer picker: ?customer_id=": Carried(
        "vendor", "GET", "/vendor/customers/picker?customer_id={other[customer_id]}", 200, htmx=True),
    "customer picker: search by id": Carried(
        "vendor", "GET", "/vendor/customers/picker?customer_search={other[customer_id]}", 200, htmx=True),
    "customer list: search by id": Carried("vendor", "GET", "/vendor/customers/?q={other[customer_id]}", 200),
    "key search: customer=": Carried(
        "vendor", "GET", "/vendor/products/{own[product_id]}?q=customer={other[customer_id]}", 200, htmx=True),
    "key export: customer=": Carried(
        "vendor", "GET", "/vendor/products/{own[product_id]}/keys.csv?q=customer={other[customer_id]}", 200),
    # Records named in the path that hang on a parent: another parent's child, or a child of ours elsewhere.
    "key page: deactivate a machine": Carried(
        "vendor", "POST", "/vendor/keys/{own[key_id]}/machines/{other[machine_id]}/deactivate", 404, owners=ANY_OTHER),
    "customer page: detach a login": Carried(
        "vendor", "POST", "/vendor/customers/{own[customer_id]}/accounts/{other[account_id]}/detach", 404,
        owners=ANY_OTHER),
    "data objects of a product": Carried("vendor", "GET", "/vendor/data-objects/product/{other[product_id]}", 404),
    "data object on a product": Carried("vendor", "POST", "/vendor/data-objects/product/{other[product_id]}", 404,
                                        data={"name": "edition", "string_value": "gold", "int_value": "1"}),
    "data objects of a key": Carried("vendor", "GET", "/vendor/data-objects/key/{other[key_id]}", 404),
    "data object on a key": Carried("vendor", "POST", "/vendor/data-objects/key/{other[key_id]}", 404,
                                    data={"name": "seat", "string_value": "", "int_value": "2"}),
    # The portal's license pages: keys and machines are the logged-in customer's only.
    "license: reveal the key": Carried("portal", "GET", "/Portal/@{slug}/Licenses/{other[key_id]}/Key", 404,
                                       owners=ANY_OTHER, htmx=True),
    "license: free a machine": Carried(
        "portal", "POST", "/Portal/@{slug}/Licenses/{other[key_id]}/Machines/{other[machine_id]}/Deactivate", 404,
        owners=ANY_OTHER, htmx=True),
    "own license: free another's machine": Carried(
        "portal", "POST", "/Portal/@{slug}/Licenses/{own[key_id]}/Machines/{other[machine_id]}/Deactivate", 404,
        owners=ANY_OTHER, htmx=True),
    # Public pages that name a customer or an account by a link or a login: another portal's mean nothing here.
    "association link": Carried("stranger", "GET", "/Portal/@{slug}/Associate?{link}", 404, LINK_NOT_VALID),
    "association link: new login": Carried("stranger", "POST", "/Portal/@{slug}/Associate?{link}", 404,
                                           LINK_NOT_VALID, NEW_LOGIN),
    "association: existing login": Carried(
        "stranger", "POST", "/Portal/@{slug}/Associate?{own_link}", 422, NO_MATCH,
        {"which": "existing", "existing-email": "{login[email]}", "existing-password": "{login[password]}"}),
    "login": Carried("stranger", "POST", "/Portal/@{slug}/Login", 422, NO_MATCH,
                     {"email": "{login[email]}", "password": "{login[password]}"}),
    "reset link": Carried("stranger", "GET", "/Portal/@{slug}/ResetPassword?token={tokens[ResetPassword]}", 404),
    "reset link: new password": Carried(
        "stranger", "POST", "/Portal/@{slug}/ResetPassword?token={tokens[ResetPassword]}", 404, data=NEW_PASSWORD),
    "e-mail link": Carried("stranger", "GET", "/Portal/@{slug}/VerifyEmail?token={tokens[VerifyEmail]}", 404),
    "e-mail link: confirm": Carried("stranger", "POST", "/Portal/@{slug}/VerifyEmail?token={tokens[VerifyEmail]}",
                                    404),
    "sign-up link": Carried("stranger", "GET", "/Portal/@{slug}/Confirm?token={tokens[Confirm]}", 404),
    "sign-up link: confirm": Carried("stranger", "POST", "/Portal/@{slug}/Confirm?token={tokens[Confirm]}", 404),
}
CASES = [pytest.param(name, owner, id=f"{name} ({owner})") for name, case in CARRIED.items() for owner in case.owners]
TOKEN_PAGES = {"vendor": "/vendor/settings", "portal": "/Portal/@{slug}/ChangePassword",
               "stranger": "/Portal/@{slug}/Login"}


def _client(request, who: str):
    if who == "stranger":
        return request.getfixturevalue("app").test_client()
    return request.getfixturevalue(f"{who}_client")


def leaked(html: str, world: World, owner: str, *, typed: dict | None = None) -> list[str]:
    """What the page shows of the other owner's records (names, e-mails, keys, machine codes), but for what the
    request itself typed into a form and gets back in it."""
    typed = set((typed or {}).values())
    return [text for text in world.texts[owner].values() if text in html and text not in typed]


@pytest.mark.parametrize(("name", "owner"), CASES)
def test_a_record_named_in_a_request_must_be_the_requesters(app, world, request, name, owner):
    case = CARRIED[name]
    client = _client(request, case.who)
    url, data = case.fill(world, owner)
    headers = {"HX-Request": "true"} if case.htmx else {}
    before = db_rows(app)
    if case.method == "GET":
        response = client.get(url, headers=headers)
    else:
        token = csrf_token(client, TOKEN_PAGES[case.who].format(slug=world.slug))
        response = client.post(url, data={"csrf_token": token, **data}, headers=headers)
    html = response.get_data(as_text=True)
    assert response.status_code == case.status, html
    assert case.message in html
    assert not leaked(html, world, owner, typed=data)
    assert db_rows(app) == before


def test_a_customers_page_shows_only_its_own_logins_licenses_and_acceptances(app, make, vendor, world,
                                                                             vendor_client, db):
    make.terms(vendor, "https://acme.example/terms-v1")
    neighbour_login = db.get(PortalAccount, world.neighbour["account_id"])
    terms.accept_terms(db, account=neighbour_login, url="https://acme.example/terms-v1")
    db.commit()
    page = vendor_client.get(f"/vendor/customers/{world.own['customer_id']}").get_data(as_text=True)
    assert "ada@example.test" in page and db.get(LicenseKey, world.own["key_id"]).key in page
    assert not leaked(page, world, "neighbour")
    assert "Nobody has accepted terms of use for this customer." in page


def test_the_vendors_home_counts_only_its_own_customers_and_logins(world, vendor_client):
    page = vendor_client.get("/vendor/").get_data(as_text=True)
    # Ours: Ada and the neighbour, each with one login; the other vendor's buyer is not counted.
    assert 'data-testid="customer-count">2<' in page
    assert "neighbour@example.test" in page and "buyer@example.test" not in page  # the latest sign-ups


def test_deleting_a_customer_removes_only_its_own_logins(app, world, vendor_client, db):
    from sqlalchemy import update

    from portal.billing_models import Subscription

    customer_id = world.own["customer_id"]
    # Its subscription ended (one still running refuses the deletion: tests/billing/test_needs_attention.py).
    db.execute(update(Subscription).where(Subscription.customer_id == customer_id).values(status="canceled"))
    db.commit()
    response = post_form(vendor_client, f"/vendor/customers/{customer_id}/delete", {})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/customers/"
    left = set(db.exec(select(PortalAccount.id)).all())
    assert left == {world.neighbour["account_id"], world.foreign["account_id"]}
    assert db.get(Customer, world.neighbour["customer_id"]) is not None


def test_the_dashboard_counts_only_the_customers_own_devices(app, world, portal_client, db):
    customer = db.get(Customer, world.own["customer_id"])
    customer.max_no_of_devices = 5
    db.add(customer)
    db.commit()
    # One machine on our key; the neighbour's and the other vendor's keys have one each.
    assert "Devices in use: 1 of 5" in portal_client.get(f"/Portal/@{world.slug}/").get_data(as_text=True)


def test_another_vendors_terms_ask_nothing_of_our_customers(app, make, world, other_vendor, portal_client,
                                                            vendor_client):
    make.terms(other_vendor, "https://globex.example/terms")
    dashboard = f"/Portal/@{world.slug}/"
    assert portal_client.get(dashboard).status_code == 200
    response = portal_client.get(f"/Portal/@{world.slug}/Terms")
    assert response.status_code == 303 and response.headers["Location"] == dashboard
    response = post_form(vendor_client, "/vendor/data-objects/", {
        "name": "cryptolens_customtosurl", "string_value": "https://acme.example/terms", "int_value": "0"})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/data-objects/"
    assert redirect_path(portal_client.get(dashboard)) == f"/Portal/@{world.slug}/Terms", "our own terms do ask"


def test_another_portals_e_mail_is_unknown_here(app, world, mailbox, db):
    client = app.test_client()
    email = world.foreign_login["email"]
    response = post_form(client, f"/Portal/@{world.slug}/ForgotPassword", {"email": email})
    assert response.status_code == 200 and mailbox.to(email) == []
    response = post_form(client, f"/Portal/@{world.slug}/SignUp", {
        "name": "Buyer", "email": email, "company_name": "", "password": "a-long-password"})
    assert response.status_code == 200
    [mail] = mailbox.to(email)
    assert "Confirm your e-mail" in mail["Subject"], "a new login here, not a note about the other portal's"
    response = post_form(client, mailbox.last_link(email, "/Confirm?token=").split("localhost", 1)[1],
                         {"password": "a-long-password"})
    assert response.status_code == 303 and response.headers["Location"] == f"/Portal/@{world.slug}/"
    assert len(db.exec(select(PortalAccount).where(PortalAccount.email == email)).all()) == 2


def test_turning_a_portal_off_logs_out_only_its_own_customers(app, make, world, other_vendor, vendor_client,
                                                              portal_client, db):
    elsewhere = app.test_client()
    make.login_portal(elsewhere, other_vendor, db.get(PortalAccount, world.foreign["account_id"]))
    response = post_form(vendor_client, "/vendor/settings", {"signup_enabled": "y"})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/settings"
    post_form(vendor_client, "/vendor/settings", {"portal_enabled": "y", "signup_enabled": "y"})
    assert redirect_path(portal_client.get(f"/Portal/@{world.slug}/")) == f"/Portal/@{world.slug}/Login"
    assert elsewhere.get(f"/Portal/@{world.other_slug}/").status_code == 200


def test_another_customers_acceptance_of_the_terms_is_not_ours(make, vendor, world, portal_client, db):
    make.terms(vendor, "https://acme.example/terms-v1")
    neighbour_login = db.get(PortalAccount, world.neighbour["account_id"])
    terms.accept_terms(db, account=neighbour_login, url="https://acme.example/terms-v1")
    db.commit()
    terms_page = f"/Portal/@{world.slug}/Terms"
    assert redirect_path(portal_client.get(f"/Portal/@{world.slug}/")) == terms_page
    assert portal_client.get(terms_page).status_code == 200, "the terms page still asks"


def test_a_machine_known_to_another_customer_is_a_new_device_for_ours(world, db):
    customer = db.get(Customer, world.own["customer_id"])
    customer.max_no_of_devices = 1
    db.add(customer)
    db.commit()
    own_key = db.get(LicenseKey, world.own["key_id"])
    for owner in ANY_OTHER:
        with pytest.raises(DomainError, match="as many devices"):
            keys.activate_machine(db, key=own_key, mid=world.texts[owner]["machine_id"], actor="test")
        db.rollback()


def test_a_vendors_search_is_not_crowded_out_by_another_vendors_newer_matches(app, make, vendor, other_vendor,
                                                                              vendor_client):
    app.config["PAGE_SIZE"] = 2
    make.customer(vendor, name="Mail Match", email="ada@engines.test")
    make.customer(vendor, name="Ada Wordmatch", email="w@engines.test")
    for n in range(4):  # newer than ours and more than a page of them, in each way a search matches
        make.customer(other_vendor, name=f"Zed {n}", email=f"ada{n}@globex.test")
        make.customer(other_vendor, name=f"Ada {n}", email=f"z{n}@globex.test")
    html = vendor_client.get("/vendor/customers/", query_string={"q": "ada"}).get_data(as_text=True)
    assert "Mail Match" in html and "Ada Wordmatch" in html
    assert "globex.test" not in html
