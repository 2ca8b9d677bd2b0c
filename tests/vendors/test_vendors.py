import re

import pytest
from sqlmodel import select

from portal.models import PortalAccount, Vendor, VendorUser
from tests.support.mail import text_of
from tests.support.pages import post_form, redirect_path


def register(client, **overrides):
    data = {"name": "Initech", "slug": "Initech.io", "email": "boss@initech.test"} | overrides
    return post_form(client, "/vendor/register", data)


def finish(client, link: str, **overrides):
    data = {"name": "Initech", "slug": "initech.io", "password": "a-long-password"} | overrides
    return post_form(client, link, data)


def without_csrf(page: str) -> str:
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", page)


def local(link: str) -> str:
    return link.split("localhost", 1)[1]


def test_the_site_root_leads_to_the_vendor_dashboard(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/vendor/"


def test_registration_mails_a_link_that_makes_the_vendor_and_logs_in(client, db, mailbox):
    answer = register(client)
    assert answer.status_code == 200 and "Check your mail" in answer.get_data(as_text=True)
    assert db.exec(select(Vendor)).all() == []  # nothing made until the e-mail is confirmed
    [mail] = mailbox.to("boss@initech.test")
    assert mail["Subject"] == "Finish creating your vendor account" and "Licensing portal" in mail["From"]
    assert "Vendor dashboard: http://localhost/vendor/login" in text_of(mail)
    link = local(mailbox.last_link("boss@initech.test", "/vendor/register/finish?token="))
    page = client.get(link).get_data(as_text=True)
    assert 'value="Initech"' in page and 'value="initech.io"' in page and "boss@initech.test" in page
    response = finish(client, link, name="Initech Inc.")
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/"
    vendor = db.exec(select(Vendor)).one()
    assert (vendor.slug, vendor.name) == ("initech.io", "Initech Inc.")
    assert db.exec(select(VendorUser)).one().password_hash.startswith("$argon2id$")
    assert "Initech" in client.get("/vendor/").get_data(as_text=True)
    # The link made the account: it is used up.
    again = client.get(link)
    assert again.status_code == 404 and "This link has been used or has expired" in again.get_data(as_text=True)


def test_a_known_e_mail_gets_the_same_answer_and_its_owner_a_note(client, make, vendor, db, mailbox):
    owner = make.owner(vendor)
    unknown = register(client, slug="initech", email="someone@initech.test").get_data(as_text=True)
    known = register(client, slug="initech2", email=owner.email.upper()).get_data(as_text=True)
    # The same page but for the address typed, and the CSRF token htmx sends (a new one each second).
    known = known.replace(owner.email, "someone@initech.test").replace("initech2", "initech")
    assert without_csrf(known) == without_csrf(unknown)
    [note] = mailbox.to(owner.email)
    assert note["Subject"] == f"You have a vendor account for {vendor.name}"
    assert "http://localhost/vendor/login" in text_of(note) and "http://localhost/vendor/forgot-password" in text_of(
        note) and "token" not in text_of(note)
    assert len(db.exec(select(Vendor)).all()) == 1


def test_a_bad_link_and_an_address_taken_meanwhile(client, make, vendor, db, mailbox):
    assert client.get("/vendor/register/finish?token=nonsense").status_code == 404
    register(client)
    link = local(mailbox.last_link("boss@initech.test", "/vendor/register/finish?token="))
    assert client.get(link[:-3]).status_code == 404  # altered
    make.vendor(slug="initech.io", name="Quicker")  # the address is taken before the link is opened
    taken = finish(client, link, slug="initech.io")
    assert taken.status_code == 422 and 'id="slug-error"' in taken.get_data(as_text=True)
    assert finish(client, link, slug="initech-two").status_code == 303


def test_taken_slug_is_refused_at_the_field(client, vendor):
    response = register(client, slug="ACME.io")
    assert response.status_code == 422 and 'id="slug-error"' in response.get_data(as_text=True)


def test_registration_can_be_turned_off(app, client):
    app.config["VENDOR_REGISTRATION"] = False
    assert client.get("/vendor/register").status_code == 404


def test_cli_creates_a_vendor(runner, db):
    result = runner.invoke(args=["create-vendor", "--slug", "umbrella", "--name", "Umbrella", "--email",
                                 "ceo@umbrella.test", "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    assert db.exec(select(Vendor.slug)).all() == ["umbrella"]


def test_demo_seed_is_idempotent(app, runner, db, tmp_path):
    app.instance_path = str(tmp_path)  # the seed writes the demo public key there, never into the checkout's
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.exec(select(Vendor.slug)).all() == ["demo"]
    result = runner.invoke(args=["show-demo"])
    assert "owner@demo.test / demo-password" in result.output and "/Portal/@demo/Associate?id=" in result.output


def test_home_counts_and_recent_signups(vendor_client, make, vendor, customer, account):
    page = vendor_client.get("/vendor/").get_data(as_text=True)
    assert 'data-testid="customer-count">1</span> customer<' in page
    assert account.email in page


def test_home_sees_only_its_own_vendor(vendor_client, make, other_vendor):
    make.account(other_vendor, make.customer(other_vendor, name="Foreign"), email="foreign@example.test")
    page = vendor_client.get("/vendor/").get_data(as_text=True)
    assert "foreign@example.test" not in page and 'data-testid="customer-count">0<' in page


def test_settings_show_link_and_escaped_snippet(vendor_client, vendor):
    page = vendor_client.get("/vendor/settings").get_data(as_text=True)
    assert "http://localhost/Portal/@acme.io/SignUp" in page
    assert "&lt;a href=&#34;http://localhost/Portal/@acme.io/SignUp&#34;&gt;" in page or \
        "&lt;a href=&#34;" in page or "&lt;a href=&quot;" in page
    assert "Acme &amp;lt;Software&amp;gt;" in page, "the vendor name is escaped inside the snippet, then again"


def test_turning_the_portal_off_hides_it_and_ends_sessions(vendor_client, portal_client, vendor, db, account):
    secret = account.session_secret
    post_form(vendor_client, "/vendor/settings", {"signup_enabled": "y"})
    assert portal_client.get(f"/Portal/@{vendor.slug}/").status_code == 404
    post_form(vendor_client, "/vendor/settings", {"portal_enabled": "y", "signup_enabled": "y"})
    assert db.get(PortalAccount, account.id).session_secret != secret
    assert redirect_path(portal_client.get(f"/Portal/@{vendor.slug}/")) == f"/Portal/@{vendor.slug}/Login"


def test_vendor_logout_ends_the_session(vendor_client, app, make, vendor):
    other = app.test_client()
    make.login_vendor(other, vendor)
    response = post_form(vendor_client, "/vendor/logout", {}, page="/vendor/")
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/login"
    assert redirect_path(other.get("/vendor/")) == "/vendor/login"


def test_a_login_page_with_a_next_goes_on_when_logged_in_already(vendor_client):
    assert redirect_path(vendor_client.get("/vendor/login?next=/vendor/customers/")) == "/vendor/customers/"
    assert vendor_client.get("/vendor/login?next=https://evil.example/").status_code == 200


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_vendor_login_refuses_bad_credentials(client, vendor, make, password):
    response = post_form(client, "/vendor/login", {"email": make.owner(vendor).email, "password": password})
    assert response.status_code == 422


def test_vendor_changes_password_and_other_sessions_end(vendor_client, app, make, vendor, db):
    other = app.test_client()
    make.login_vendor(other, vendor)
    wrong = post_form(vendor_client, "/vendor/password", {"current_password": "nope", "password": "a-new-password-1",
                                                          "confirm": "a-new-password-1"})
    assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.get_data(as_text=True)
    from tests.support.factories import VENDOR_PASSWORD

    same = post_form(vendor_client, "/vendor/password", {"current_password": VENDOR_PASSWORD,
                                                         "password": VENDOR_PASSWORD, "confirm": VENDOR_PASSWORD})
    assert same.status_code == 422 and "That is the password you have now" in same.get_data(as_text=True)
    response = post_form(vendor_client, "/vendor/password", {"current_password": VENDOR_PASSWORD,
                                                             "password": "a-new-password-1",
                                                             "confirm": "a-new-password-1"})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/"
    assert vendor_client.get("/vendor/").status_code == 200 and redirect_path(other.get("/vendor/")) == "/vendor/login"
    relogin = post_form(app.test_client(), "/vendor/login", {"email": make.owner(vendor).email,
                                                             "password": "a-new-password-1"})
    assert relogin.status_code == 303 and relogin.headers["Location"] == "/vendor/"


def test_cli_sets_a_locked_out_vendors_password(runner, make, vendor, app):
    email = make.owner(vendor).email
    result = runner.invoke(args=["set-vendor-password", "--email", email, "--password", "reset-by-cli-1"])
    assert result.exit_code == 0, result.output
    response = post_form(app.test_client(), "/vendor/login", {"email": email, "password": "reset-by-cli-1"})
    assert response.status_code == 303 and response.headers["Location"] == "/vendor/"


def test_a_number_field_says_in_words_what_it_wants(vendor_client):
    from tests.support.pages import post_form

    response = post_form(vendor_client, "/vendor/settings/reminders", {"remind_days_before_expiry": "soon"},
                         page="/vendor/settings")
    assert response.status_code == 422 and "Give a whole number, like 3." in response.get_data(as_text=True)


def test_a_forms_address_opened_leads_to_the_page_of_the_form(vendor_client, client, vendor):
    """A page shown again after a refused save keeps the form's address in the address bar; opening it again leads
    to the page the form is on, not to an error."""
    answer = vendor_client.get("/vendor/settings/reminders")
    assert answer.status_code == 303 and answer.headers["Location"] == "/vendor/settings"
    assert vendor_client.get("/vendor/keys/1/extend").headers["Location"] == "/vendor/keys/1"
    portal = client.get(f"/Portal/@{vendor.slug}/Subscriptions/Subscribe")
    assert portal.status_code == 303 and portal.headers["Location"] == f"/Portal/@{vendor.slug}/Subscriptions"
    assert client.get("//evil.example/x/y").status_code in (404, 405)
    assert client.post("/healthz").status_code == 405  # not a GET: said so


def test_the_navigation_marks_the_section_a_page_is_in(vendor_client, make, vendor):
    product = make.product(vendor)
    for path, label in [("/vendor/", "Home"), ("/vendor/customers/", "Customers"),
                        (f"/vendor/products/{product.id}", "Products"), ("/vendor/keys/new", "Products"),
                        (f"/vendor/products/{product.id}/prices/link", "Products"), ("/vendor/settings", "Settings"),
                        ("/vendor/settings/brand", "Settings"), ("/vendor/settings/stripe", "Settings"),
                        ("/vendor/activity/", "Activity")]:
        page = vendor_client.get(path).get_data(as_text=True)
        current = "page" if path in ("/vendor/", "/vendor/customers/", "/vendor/settings", "/vendor/activity/") \
            else "true"
        assert page.count("aria-current=") == 1 and f'aria-current="{current}">{label}</a>' in page, path


def test_only_sent_registrations_count_towards_the_hourly_limit_which_says_when_to_come_back(client, vendor):
    for _ in range(11):  # mistakes (a taken address) are not held against anyone
        assert register(client, slug="acme.io").status_code == 422
    for n in range(10):
        assert register(client, slug=f"initech{n}", email=f"boss{n}@initech.test").status_code == 200
    refused = register(client, slug="initech-last", email="last@initech.test")
    assert refused.status_code == 429 and "Try again within the hour." in refused.get_data(as_text=True)


def test_the_company_name_given_at_registration_can_be_changed_in_settings(vendor_client, client, vendor, db):
    """A typo in the name, or a new name, is not for ever: Settings changes what every portal page and mail says."""
    page = vendor_client.get("/vendor/settings").get_data(as_text=True)
    assert 'action="/vendor/settings/name"' in page and 'value="Acme &lt;Software&gt; &amp; Co"' in page
    refused = post_form(vendor_client, "/vendor/settings/name", {"name": "  "}, page="/vendor/settings")
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.get_data(as_text=True)
    answer = post_form(vendor_client, "/vendor/settings/name", {"name": " Acme Tools "}, page="/vendor/settings")
    assert answer.status_code == 303 and answer.headers["Location"] == "/vendor/settings"
    db.expire_all()
    assert db.get(Vendor, vendor.id).name == "Acme Tools"
    assert "Create your Acme Tools account" in client.get(f"/Portal/@{vendor.slug}/SignUp").get_data(as_text=True)
    activity = vendor_client.get("/vendor/activity/").get_data(as_text=True)
    assert "Acme Tools" in activity and "Acme &lt;Software&gt; &amp; Co" in activity


def test_a_part_of_a_page_asked_for_after_the_login_ended_sends_the_whole_page_to_the_login(client, make, vendor):
    """A key search typed on a product page opened before the login ended (logged out in another tab): htmx put the
    whole login page, header and footer, inside the key list. It is told to load the login as a page instead."""
    product = make.product(vendor)
    answer = client.get(f"/vendor/products/{product.id}", query_string={"q": "id=1"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and answer.get_data(as_text=True) == ""
    assert answer.headers["HX-Redirect"] == f"/vendor/login?next=/vendor/products/{product.id}?q%3Did%253D1"
    assert client.get("/vendor/").status_code == 302  # a page opened by the browser is redirected as before
