from sqlmodel import func, select

from portal.models import Customer, PortalAccount
from tests.support.factories import post_form


def sign_up(client, vendor, **overrides):
    data = {"name": "Grace Hopper", "email": "grace@example.test", "company_name": "Navy",
            "password": "a-long-password"} | overrides
    return post_form(client, f"/Portal/@{vendor.slug}/SignUp", data)


def test_sign_up_mails_a_link_that_verifies_and_logs_in(client, vendor, mailbox, db):
    response = sign_up(client, vendor)
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)

    account = db.exec(select(PortalAccount)).one()
    customer = db.get(Customer, account.customer_id)
    assert (customer.name, customer.email, customer.company_name, customer.origin) == (
        "Grace Hopper", "grace@example.test", "Navy", "signup")
    assert account.email_verified_at is None

    link = mailbox.last_link("grace@example.test", "VerifyEmail")
    path = link.split("localhost", 1)[1]
    assert client.get(path).status_code == 200
    response = post_form(client, path, {})
    assert response.status_code == 303
    dashboard = client.get(f"/Portal/@{vendor.slug}/")
    assert dashboard.status_code == 200
    assert "Grace Hopper" in dashboard.get_data(as_text=True)


def test_unverified_account_cannot_log_in_and_gets_a_new_link(client, vendor, mailbox):
    sign_up(client, vendor)
    response = post_form(client, f"/Portal/@{vendor.slug}/Login",
                         {"email": "grace@example.test", "password": "a-long-password"})
    assert response.status_code == 422
    assert "Confirm your e-mail first" in response.get_data(as_text=True)
    assert len(mailbox.to("grace@example.test")) == 2


def test_verification_link_works_once(client, vendor, mailbox):
    sign_up(client, vendor)
    path = mailbox.last_link("grace@example.test", "VerifyEmail").split("localhost", 1)[1]
    assert post_form(client, path, {}).status_code == 303
    assert client.get(path).status_code == 404


def test_existing_email_gets_the_same_page_and_a_mail_to_the_owner(client, vendor, account, mailbox, db):
    before = db.exec(select(func.count()).select_from(Customer)).one()
    response = sign_up(client, vendor, email=account.email.upper())
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    assert db.exec(select(func.count()).select_from(Customer)).one() == before
    (mail,) = mailbox.to(account.email)
    assert "You already have an account" in mail.get_content()


def test_same_email_may_sign_up_in_two_portals(client, vendor, other_vendor, mailbox, db):
    sign_up(client, vendor)
    sign_up(client, other_vendor)
    assert db.exec(select(func.count()).select_from(PortalAccount)).one() == 2
    assert len(mailbox.to("grace@example.test")) == 2


def test_sign_up_off_answers_not_found(vendor_client, client, vendor):
    post_form(vendor_client, "/vendor/settings", {"portal_enabled": "y"})
    assert client.get(f"/Portal/@{vendor.slug}/SignUp").status_code == 404
    assert client.get(f"/Portal/@{vendor.slug}/Login").status_code == 200


def test_slug_is_case_insensitive(client, vendor):
    assert client.get("/Portal/@ACME.IO/SignUp").status_code == 200
